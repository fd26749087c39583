"""Enable or disable an Azure ML pipeline schedule from a DAG, for instance once a DAG has taken it over."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from airflow.sdk import BaseOperator

from airflow_provider_azureml.client.errors import AzureMLError
from airflow_provider_azureml.operators.arguments import ScheduleArguments
from airflow_provider_azureml.operators.base import AzureMLHookMixin, as_airflow_error

if TYPE_CHECKING:
    from airflow.sdk import Context


class AzureMLScheduleOperator(AzureMLHookMixin, BaseOperator):
    """
    Enable or disable the schedule ``schedule_id`` (or the one named ``schedule_name``).

    A schedule already in that state is left as it is. Returns ``{"schedule_id", "name", "status"}``.
    An unknown id or name, or a name that two schedules share, fails the task at once.

    :param schedule_id: the schedule's id (``Schedule.id`` in the SDK).
    :param schedule_name: or its name, which must be unique in the workspace.
    :param action: ``"enable"`` (Active: it fires from now on, missed runs are not made up) or
        ``"disable"`` (Disabled: runs it already started go on).
    """

    template_fields: Sequence[str] = ("schedule_id", "schedule_name", "azureml_conn_id")
    arguments = ScheduleArguments

    def __init__(
        self,
        *,
        action: Literal["enable", "disable"],
        schedule_id: str | None = None,
        schedule_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.action = action
        self.schedule_id = schedule_id
        self.schedule_name = schedule_name

    def execute(self, context: Context) -> dict[str, Any]:
        self.check_arguments()
        target = self.schedule_id or self.schedule_name
        try:
            found = self.hook.get_schedule(
                schedule_id=self.schedule_id or None, name=self.schedule_name or None
            )
            change = self.hook.enable_schedule if self.action == "enable" else self.hook.disable_schedule
            before, schedule = found.status, change(found.id)
        except AzureMLError as error:
            raise as_airflow_error(error, f"Cannot {self.action} Azure ML schedule {target}: ") from error
        verb = "left" if before == schedule.status else "set"
        self.log.info("Azure ML schedule %s (%s) %s %s", schedule.name, schedule.id, verb, schedule.status)
        return {"schedule_id": schedule.id, "name": schedule.name, "status": schedule.status}
