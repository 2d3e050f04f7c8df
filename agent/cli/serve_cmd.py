"""`coach serve`: a resident coach on 127.0.0.1 that `coach ask` uses when it runs (and an OpenAI-compatible API)."""

from __future__ import annotations

import typer

from agent.cli.common import fail, friendly


def register(app: typer.Typer) -> None:
    @app.command("serve")
    @friendly
    def serve(
        port: int = typer.Option(8765, "--port", "-p", min=0, max=65535, help="Port (0: any free one)."),
        host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind; loopback unless --public."),
        public: bool = typer.Option(False, "--public", help="Allow a non-loopback --host (no authentication!)."),
    ) -> None:
        """Keep one coach loaded and answer on http://127.0.0.1:PORT (/v1/turn, /v1/chat/completions)."""
        from agent.cli.common import settings_from
        from agent.serve.server import LOOPBACK
        from agent.serve.server import serve as run

        if host not in LOOPBACK and not public:
            fail(f"--host {host} is not loopback; the API has no authentication, so add --public to mean it")
        settings = settings_from()

        def ready(server) -> None:
            typer.echo(f"coach serve on http://{host}:{server.port} (OpenAI-compatible: /v1/chat/completions); "
                       "Ctrl-C to stop", err=True)

        try:
            run(settings, host, port, ready=ready)
        except OSError as exc:
            fail(f"cannot serve on {host}:{port}: {exc.strerror or exc}")
        except KeyboardInterrupt:
            raise typer.Exit(0) from None
