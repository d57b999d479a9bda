"""One sensor-daemon iteration in a process of its own, as Dagster's sensor crash tests run it.

    python sensor_tick.py <dagster home> <sensor name> <epoch seconds> [CRASH_POINT]

Evaluates the sensors of `activation_location.py` once at the given (frozen) time, through the
daemon's own `execute_sensor_iteration`. With a crash point (TICK_CREATED, TICK_HELD, RUN_CREATED,
RUN_LAUNCHED, RUN_IDS_RESERVED) the process SIGKILLs itself there, as a killed daemon would die.
Runs launch with the instance's launcher (SyncInMemoryRunLauncher: the run executes inside the launch).
"""

import logging
import signal
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(home: str, sensor_name: str, at: float, crash_point: str | None) -> None:
    import os

    os.environ["DEVSIGNAL_TEST_SENSORS"] = sensor_name  # only this sensor ticks
    from dagster import DagsterInstance
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.test_utils import create_test_daemon_workspace_context, freeze_time
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
    from dagster._daemon.sensor import execute_sensor_iteration

    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(executable_path=sys.executable, python_file=str(HERE / "activation_location.py"),
                             attribute="defs", working_directory=str(HERE.parent.parent)),
        location_name="activation_test")
    flags = {sensor_name: {crash_point: signal.SIGKILL}} if crash_point else None
    with DagsterInstance.from_config(home) as instance, freeze_time(at):
        with create_test_daemon_workspace_context(InProcessWorkspaceLoadTarget(origin), instance) as context:
            list(execute_sensor_iteration(context, logging.getLogger("sensor_tick"), None, None,
                                          debug_crash_flags=flags) or [])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None)
