"""Serve the studio: `python app.py` and `circuit-studio studio` both end here.

    circuit-studio studio [--host 127.0.0.1] [--port 7860] [--model ID|PATH] [--profile FILE] [--desktop]
    torchrun --nproc-per-node N -m ui.cli.main studio --model ID|PATH --distributed tensor|expert

The bundled model is used unless ``--model`` names another; when it cannot be opened the studio still
serves and the page says why. ``--desktop`` opens the page in its own window (Chromium's application
mode, ``ui/desktop.py``) where there is a display, and stops the studio when the window closes; with no
display or no Chromium it says so and serves the page for the browser.
With ``--distributed``, under ``torchrun``, the model is split across the N processes by transformers'
tensor-parallel (``tensor``) or tensor- plus expert-parallel (``expert``) plan: rank 0 serves the studio
and the other ranks run the forwards rank 0 runs, until it stops (``docs/SCALING.md``).
Gradio and torch are imported only when the command runs, so the rest of the CLI starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

from ui.desktop import ICON, desktop_reason, open_window

PLANS = ("tensor", "expert")  # studio.moe.distributed.PLANS, without importing torch to build the parser

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 7860
QUEUE_SIZE = 64  # runs waiting at once; more are refused with a "busy" message
WARM_UP_JOIN_S = 60.0  # on shutdown, how long the warm-up run may take to finish


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to serve on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--model", help="hub id or local path of a MoE causal LM (default: the bundled model)")
    parser.add_argument("--profile", type=Path, help="steering profile JSON every session starts with")
    parser.add_argument("--profiles-dir", type=Path, help="folder of example profiles (default: the bundled ones)")
    parser.add_argument("--desktop", action="store_true", help="open in its own window (Chromium app mode) if possible")
    parser.add_argument(
        "--distributed",
        choices=PLANS,
        help="under torchrun: split the model across the processes (tensor- or expert-parallel); rank 0 serves",
    )


def register(sub: argparse._SubParsersAction) -> None:
    studio = sub.add_parser("studio", help="serve the studio in the browser (or a desktop window)")
    add_arguments(studio)
    studio.set_defaults(handler=serve)


def serve(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "0")
    distributed = getattr(args, "distributed", None)
    if distributed is not None and _follows(args.model, distributed):
        return 0
    reason = desktop_reason() if args.desktop else None
    if reason is not None:
        print(f"--desktop: {reason}; serving for the browser instead.", flush=True)

    from components_db import KnowledgeBase
    from ui.studio_app import build_studio, launch_kwargs
    from ui.studio_context import StudioContext

    context = StudioContext.open(
        KnowledgeBase.open(), args.model, profile=args.profile, profiles_dir=args.profiles_dir, distributed=distributed
    )
    if context.model_error:
        print(f"warning: {context.model_error}; the studio serves without a model", file=sys.stderr, flush=True)
    for notice in context.notices:
        print(f"warning: {notice}", file=sys.stderr, flush=True)
    page = build_studio(context)
    page.queue(max_size=QUEUE_SIZE, default_concurrency_limit=1)
    native = args.desktop and reason is None
    page.launch(
        server_name=args.host,
        server_port=args.port,
        prevent_thread_lock=True,
        show_error=False,
        quiet=True,
        favicon_path=str(ICON),
        **launch_kwargs(),
    )
    warm_up = threading.Thread(target=_warm_up, args=(context,), name="studio-warm-up", daemon=True)
    warm_up.start()
    url = f"http://{args.host}:{args.port}/"
    print(f"MoE Circuit Studio on {url} (ready in {time.perf_counter() - started:.1f} s)", flush=True)
    try:
        if native:
            print("opening its window; closing the window stops the studio", flush=True)
        failed = open_window(_local_url(args.host, args.port)) if native else None
        if failed:
            print(f"--desktop: {failed}; serving for the browser instead.", flush=True)
        if failed or not native:
            page.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        page.close()
        # a daemon thread still inside torch when the interpreter exits aborts the process ("terminate
        # called without an active exception"): a window closed within seconds of opening ends the warm-up
        # run first
        warm_up.join(timeout=WARM_UP_JOIN_S)
        if distributed is not None and context.pipeline is not None:
            context.pipeline.engine.close()  # the other ranks stop following
    return 0


def _follows(model: str | None, plan: str) -> bool:
    """On a rank other than 0 of a ``torchrun`` launch: load this rank's shard and run rank 0's forwards
    until it stops serving (then True). On rank 0: False, it serves."""
    from studio.moe.distributed import launched

    rank, _ = launched()
    if rank == 0:
        return False
    from agents.model_opening import open_distributed_engine

    print(f"rank {rank}: following rank 0's requests", flush=True)
    open_distributed_engine(model, plan)  # type: ignore[arg-type]
    return True


def _local_url(host: str, port: int) -> str:
    """The page's address for a window on this machine (Chromium will not open 0.0.0.0)."""
    return f"http://{'127.0.0.1' if host in ('', '0.0.0.0', '::') else host}:{port}/"


def _warm_up(context) -> None:
    try:
        context.warm_up()
    except Exception as exc:  # a cold first run is slower, nothing worse
        print(f"warning: warm-up failed: {exc}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="app.py", description="Serve MoE Circuit Studio.")
    add_arguments(parser)
    return serve(parser.parse_args(argv))
