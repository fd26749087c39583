"""Deferred wait for an Azure ML pipeline run, polled from the triggerer's event loop."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_azureml.client.retry import is_permanent, is_transient
from airflow_provider_azureml.client.statuses import RunState, RunStatus
from airflow_provider_azureml.triggers.poller import Reading, RunStatusPoller, Watch, shared_poller
from airflow_provider_azureml.utils.events import build_error_event, build_run_event
from airflow_provider_azureml.utils.progress import ProgressLog
from airflow_provider_azureml.utils.waiting import REAL_CLOCK, Pacing, WaitClock


class AzureMLPipelineRunTrigger(BaseTrigger):
    """
    Wait for a pipeline run to end, or for ``end_time`` (epoch seconds) to pass.

    The run's status comes from the event loop's shared poller (``triggers/poller.py``), which reads
    the runs of every trigger of the connection together, at least once per ``poll_interval``; this
    trigger reads the steps itself when the status changed, for the progress log. Throttling and
    transient errors back off exponentially (:class:`~airflow_provider_azureml.utils.waiting.Pacing`,
    like the synchronous wait) instead of failing the task. At the deadline the run is read once more,
    so a run that finished meanwhile is not reported as a timeout. ``on_kill`` (a user marking the task
    failed, or clearing it) cancels the remote run when ``cancel_on_kill``; ``cleanup`` never does, so a
    triggerer restart leaves the run alone.
    """

    #: What the wait reads time from and sleeps on; not an argument, so ``serialize()`` stays JSON.
    clock: ClassVar[WaitClock] = REAL_CLOCK

    def __init__(
        self,
        run_id: str,
        experiment_name: str,
        azureml_conn_id: str = "azureml_default",
        poll_interval: float = 30.0,
        end_time: float | None = None,
        cancel_on_kill: bool = True,
        retry_settings: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.run_id = run_id
        self.experiment_name = experiment_name
        self.azureml_conn_id = azureml_conn_id
        self.poll_interval = poll_interval
        self.end_time = end_time
        self.cancel_on_kill = cancel_on_kill
        self.retry_settings = retry_settings or {}
        self._watching: Watch | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{self.__class__.__module__}.{self.__class__.__name__}",
            {
                "run_id": self.run_id,
                "experiment_name": self.experiment_name,
                "azureml_conn_id": self.azureml_conn_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                "cancel_on_kill": self.cancel_on_kill,
                "retry_settings": self.retry_settings,
            },
        )

    async def _client(self) -> Any:
        from airflow_provider_azureml.hooks.azureml import AzureMLHook

        return await AzureMLHook.get_async_client_for(self.azureml_conn_id, **self.retry_settings)

    def _poller(self) -> RunStatusPoller:
        """The event loop's poller for this connection and these retry settings (made by this trigger's
        client factory if it is the first)."""
        key = (self.azureml_conn_id, json.dumps(self.retry_settings, sort_keys=True))
        return shared_poller(key, self.clock, self._client)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        yield TriggerEvent(await self._outcome())

    async def _outcome(self) -> dict[str, Any]:
        """The one event this trigger fires; every way of ending produces one, none raises."""
        try:
            client = await self._client()
        except Exception as error:  # a missing or invalid connection: tell the task, don't crash
            return self._error_event(error)
        async with client:
            return await self._watch(client)

    async def _watch(self, client: Any) -> dict[str, Any]:
        """Deal with each reading the shared poller hands over, until one ends the wait."""
        progress = ProgressLog()
        status = RunStatus.UNKNOWN  # the last status read, with its steps
        pacing = Pacing(self.poll_interval)
        after: float | None = None
        self._watching = self._poller().watch(
            self.run_id, self.experiment_name, self.poll_interval, self.end_time
        )
        async with self._watching as watching:
            while True:
                reading = await watching.next(after)
                if reading.deadline:
                    return await self._final_look(client, status)
                try:
                    status = await self._observe(client, reading, status, progress)
                except Exception as error:
                    if not is_transient(error):
                        return self._error_event(error, status)
                    after, pacing = pacing.after_transient_error()
                    self.log.warning(
                        "Transient error polling run %s, next poll in %.2fs: %s", self.run_id, after, error
                    )
                    continue
                if RunState(status).is_terminal:
                    return build_run_event(self.run_id, self.experiment_name, status)
                after, pacing = None, Pacing(self.poll_interval)

    async def _observe(self, client: Any, reading: Reading, last: str, progress: ProgressLog) -> str:
        """The run's status, with a progress line on a change: with the steps read, while the run is
        active; without, at its end, which is reported at once (the task then names any failing step)."""
        status = reading.result()
        self.experiment_name = self.experiment_name or reading.experiment_name
        if status != last:
            ended = RunState(status).is_terminal
            steps = [] if ended else await client.list_step_runs(self.experiment_name, self.run_id)
            progress.report(self.log, self.run_id, status, steps)
        return status

    async def _final_look(self, client: Any, last_status: str) -> dict[str, Any]:
        """Read the run once more at the deadline; a transient error keeps the last status seen."""
        try:
            last_status = (await client.get_pipeline_run(self.run_id)).status
        except Exception as error:
            if not is_transient(error):
                return self._error_event(error, last_status)
        return build_run_event(self.run_id, self.experiment_name, last_status, timed_out=True)

    def _error_event(self, error: Exception, last_status: str = RunStatus.UNKNOWN) -> dict[str, Any]:
        message = f"Polling Azure ML pipeline run {self.run_id} failed: {error}"
        return build_error_event(
            self.run_id,
            self.experiment_name,
            message,
            permanent=is_permanent(error),
            run_status=last_status,
        )

    async def on_kill(self) -> None:
        """Leave the poller (the triggerer has cancelled the wait already), then cancel the run."""
        if self._watching is not None:
            self._watching.close()
        if not self.cancel_on_kill:
            return
        async with await self._client() as client:
            await client.cancel_pipeline_run(self.run_id)
        self.log.info("Cancel requested for Azure ML pipeline run %s", self.run_id)
