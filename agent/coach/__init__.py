"""The coaching conversation: engines, the turn pipeline, GROW state and openers."""
