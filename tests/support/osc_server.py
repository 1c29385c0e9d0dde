"""The fork server of support/osc.py: ``python osc_server.py SOCKET``.

It makes the ``openstack`` CLI's imports once, then forks a child per connection. The
child reads one request (a JSON line: argv, env, cwd, the paths of its stdout and
stderr), answers its pid, becomes ``openstack ARGV`` in that environment and directory,
runs the console script's entry point and answers its exit code before it exits with it.
The server ends when its parent closes the server's stdin.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import selectors
import signal
import socket
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

EXECUTABLE = Path(sys.executable).parent / "openstack"


def exit_code(exit: SystemExit) -> int:
    """What the interpreter makes of ``sys.exit(value)``."""
    if exit.code is None:
        return 0
    if isinstance(exit.code, int):
        return exit.code
    print(exit.code, file=sys.stderr)
    return 1


def serve(connection: socket.socket, main: Callable[[], object]) -> None:
    """In a forked child: one call, then out (never returns)."""
    code = 1
    try:
        request = json.loads(connection.makefile("rb").readline())
        connection.sendall(f"{os.getpid()}\n".encode())
        os.environ.clear()
        os.environ.update(request["env"])
        if request["cwd"] is not None:
            os.chdir(request["cwd"])
        for path, fd, flags in ((os.devnull, 0, os.O_RDONLY),
                                (request["stdout"], 1, os.O_WRONLY | os.O_TRUNC),
                                (request["stderr"], 2, os.O_WRONLY | os.O_TRUNC)):
            target = os.open(path, flags)
            os.dup2(target, fd)
            os.close(target)
        sys.argv = [str(EXECUTABLE), *request["argv"]]
        try:
            sys.exit(main())  # the console script's own line
        except SystemExit as exit:
            code = exit_code(exit)
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        try:
            connection.sendall(f"{code}\n".encode())
        finally:
            os._exit(code)


def main(address: str) -> None:
    # cliff names the application from argv[0] when it is imported (App.NAME).
    sys.argv = [str(EXECUTABLE)]
    (entry,) = importlib.metadata.entry_points(group="console_scripts", name="openstack")
    run = entry.load()
    # The commands' and plugins' modules, which cliff would import on first use.
    for group in importlib.metadata.entry_points().groups:
        if group.startswith("openstack."):
            for command in importlib.metadata.entry_points(group=group):
                with contextlib.suppress(ImportError):
                    __import__(command.module)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reaped by the kernel
    with socket.socket(socket.AF_UNIX) as listener, selectors.DefaultSelector() as selector:
        listener.bind(address)
        listener.listen(64)
        selector.register(listener, selectors.EVENT_READ)
        selector.register(sys.stdin, selectors.EVENT_READ)
        print("ready", flush=True)
        while True:
            for key, _ in selector.select():
                if key.fileobj is sys.stdin:
                    return  # the parent closed it: its tests are over
                connection, _ = listener.accept()
                if os.fork() == 0:
                    selector.close()
                    listener.close()
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    serve(connection, run)
                connection.close()


if __name__ == "__main__":
    main(sys.argv[1])
