"""Where units run: in this process, in local worker processes, or on Ray; each yields results as units finish.

All three run the same function (``harness.run_unit``) on the same units and hand back the same files, so a
store filled through any of them holds the same records. Ray is optional (``pip install benchcast[ray]``):
``--ray auto`` starts a local Ray with ``workers`` CPUs, an address joins a running cluster, whose nodes need
benchcast and lm-eval installed and every checkpoint path readable (shared storage). Results come back through
Ray's object store to this process, which alone writes the store.
"""

from __future__ import annotations

import multiprocessing
import socket
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Protocol

from benchcast.errors import InputError
from benchcast.evaluation.harness import HarnessSettings, Unit, UnitResult, run_unit

RAY_CONNECT_SECONDS = 5.0


class Workers(Protocol):
    """Runs units and yields each one's result as it finishes, in any order."""

    description: str

    def run(self, units: Sequence[Unit]) -> Iterator[UnitResult]: ...

    def where(self) -> str:
        """Where the units ran, once they have: a line for the user, or "" when there is nothing to add."""
        ...

    def close(self) -> None: ...


class InProcess:
    """One worker: this process (no start-up cost; the harness's imports and model stay loaded)."""

    description = "this process"

    def __init__(self, settings: HarnessSettings) -> None:
        self.settings = settings

    def run(self, units: Sequence[Unit]) -> Iterator[UnitResult]:
        for unit in units:
            yield run_unit(unit, self.settings)

    def where(self) -> str:
        return ""

    def close(self) -> None:
        pass


class LocalProcesses:
    """``workers`` spawned processes (spawn, not fork: the parent may run DuckDB and torch threads)."""

    def __init__(self, settings: HarnessSettings, workers: int) -> None:
        self.settings = settings
        self.description = f"{workers} local processes"
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))

    def run(self, units: Sequence[Unit]) -> Iterator[UnitResult]:
        pending: set[Future] = {self.pool.submit(run_unit, unit, self.settings) for unit in units}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()

    def where(self) -> str:
        return ""

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class RayWorkers:
    """Units as Ray tasks, each asking for ``settings.threads`` CPUs and, on a GPU backend, one GPU."""

    def __init__(self, settings: HarnessSettings, workers: int, address: str) -> None:
        import ray

        self.ray = ray
        self.settings = settings
        self.started = not ray.is_initialized()
        if self.started:
            try:
                if address == "auto":
                    ray.init(num_cpus=workers * settings.threads, include_dashboard=False, log_to_driver=False)
                else:
                    ray.init(address=address, log_to_driver=False)
            except Exception as error:  # Ray raises ConnectionError, RuntimeError, ValueError, ...
                raise InputError(f"cannot start or join Ray at {address!r} ({_why(error)})") from None
        where = "a local Ray" if address == "auto" else f"the Ray cluster at {address}"
        self.description = f"{where}, {workers} worker(s)"
        gpus = 1 if settings.device != "cpu" else 0
        self.remote = ray.remote(_run_on_node).options(num_cpus=settings.threads, num_gpus=gpus, max_retries=0)
        self.nodes: set[str] = set()

    def run(self, units: Sequence[Unit]) -> Iterator[UnitResult]:
        pending = [self.remote.remote(unit, self.settings) for unit in units]
        try:
            while pending:
                done, pending = self.ray.wait(pending, num_returns=1)
                result, node = self.ray.get(done[0])
                self.nodes.add(node)
                yield result
        finally:
            for reference in pending:
                self.ray.cancel(reference, force=True)

    def where(self) -> str:
        return f"units ran on {len(self.nodes)} Ray node(s)" if self.nodes else ""

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()


def _run_on_node(unit: Unit, settings: HarnessSettings) -> tuple[UnitResult, str]:
    """``run_unit`` on a Ray worker, with the id of the node it ran on."""
    import ray

    return run_unit(unit, settings), ray.get_runtime_context().get_node_id()


def _why(error: BaseException) -> str:
    """The first line of Ray's error, and what to do where the cluster asked for a token this process did not
    send: Ray sends one to an address given explicitly only when told to (``ray start --head`` turns token
    authentication on by itself once a token exists, so this is the commonest way joining fails)."""
    cause = error
    while cause is not None:
        if type(cause).__name__ == "AuthenticationError" or "InvalidAuthToken" in str(cause):
            return (
                f"{_first_line(error)}: the cluster wants an authentication token; set RAY_AUTH_MODE=token and "
                "the cluster's token in RAY_AUTH_TOKEN or ~/.ray/auth_token"
            )
        cause = cause.__cause__ or cause.__context__
    return _first_line(error)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def check_ray(address: str | None) -> None:
    """Fail before any work when Ray is asked for but missing, or its address does not answer."""
    if address is None:
        return
    try:
        import ray  # noqa: F401
    except ImportError:
        raise InputError("--ray needs Ray: pip install 'benchcast[ray]'") from None
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"Ray address {address!r} is not HOST:PORT (or 'auto' for a local Ray)")
    try:
        socket.create_connection((host, int(port)), timeout=RAY_CONNECT_SECONDS).close()
    except OSError as error:
        raise InputError(f"Ray address {address!r} does not answer ({error.strerror or error})") from None


def make_workers(settings: HarnessSettings, workers: int, ray_address: str | None) -> Workers:
    """Ray when an address (or ``auto``) is given, else local processes, or this process for one worker."""
    if ray_address is not None:
        return RayWorkers(settings, workers, ray_address)
    if workers == 1:
        return InProcess(settings)
    return LocalProcesses(settings, workers)
