"""`python -m agent.cli`: the same entry point as the `coach` script."""

from agent.cli import main

if __name__ == "__main__":
    main()
