"""`coach ui`: the Streamlit app on 127.0.0.1, offline by default."""

from __future__ import annotations

import typer

from agent.cli.common import fail, friendly


def streamlit_command(port: int, address: str = "127.0.0.1") -> list[str]:
    """The argv that serves the app: local only, headless, no usage statistics."""
    import sys

    from agent.core.resources import ui_dir

    app = ui_dir() / "app.py"
    if not app.is_file():
        fail(f"the UI is not installed: {app} is missing")
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]


def register(app: typer.Typer) -> None:
    @app.command("ui")
    @friendly
    def ui(
        port: int = typer.Option(8501, "--port", "-p", min=1, max=65535, help="Port to serve on."),
        address: str = typer.Option("127.0.0.1", "--address", help="Interface to bind (local by default)."),
    ) -> None:
        """Open the coach in your browser (Streamlit, on 127.0.0.1)."""
        import subprocess

        from agent.core.settings import load_settings

        load_settings()  # a broken config is one clear line here, not a traceback in the browser
        cmd = streamlit_command(port, address)
        typer.echo(f"coach ui on http://{address}:{port} (Ctrl-C to stop)")
        try:
            raise typer.Exit(subprocess.call(cmd))
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
