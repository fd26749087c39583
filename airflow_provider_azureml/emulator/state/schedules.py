"""Pipeline schedules: the checks the service makes, and firing them on the emulator's clock.

The SDK keeps no schedule logic (``azureml.pipeline.core.schedule``: it validates a ``ScheduleRecurrence``
and serialises it); when runs happen is the service's business. The emulator follows what the SDK's
docstrings say of it (``ScheduleRecurrence``, ``Schedule``; the project's ``docs/schedules.md``):

- without hours, minutes or week days a recurrence fires at ``start + k * interval`` (absolute time for
  Minute and Hour, wall-clock time in the zone for Day, Week and Month); without a start time it starts
  at creation, so the first run is immediate;
- with hours and minutes (Day, Week) it fires at every hour x minute on every interval-th day, or on the
  listed week days of every interval-th week (weeks start on Monday), strictly after the start time; a
  missing hours or minutes list is the start time's;
- slots before creation are skipped (no catch-up), as are slots while the schedule is disabled;
- a datastore schedule polls ``<data dir>/datastores/<name>/<path>`` (files directly in it) every
  ``PollingInterval`` minutes, and submits one run per new or changed file, its ``DataPath`` parameter
  set to that file.

Nothing runs in the background here: :meth:`Schedules.catch_up` submits every run due by the emulator's
time, each instant exactly once, with the run's submission time at that instant, so what is seen does not
depend on when it is called (per request, by the server's ticker, or after ``advance``).
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from airflow_provider_azureml.emulator.execution.commands import DEFAULT_DATASTORE, safe_relative
from airflow_provider_azureml.emulator.state.records import (
    DataPathRef,
    DatastoreTrigger,
    Recurrence,
    Schedule,
    ScheduleRequest,
    State,
    SubmitRequest,
)
from airflow_provider_azureml.emulator.wire.errors import BadRequest, EmulatorError, NotFound
from airflow_provider_azureml.windows_zones import iana_zone

log = logging.getLogger(__name__)

FREQUENCIES = ("Minute", "Hour", "Day", "Week", "Month")
WEEK_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
START_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
#: Runs one schedule may submit in one catch-up: a clock jumped years ahead must not hang the emulator.
MAX_FIRES = 1000
DAY = 86400
#: Longest possible period per unit (a DST change adds an hour), so a skip-ahead never passes a slot.
LONGEST_SECONDS = {"Day": DAY + 3600, "Week": 7 * DAY + 3600, "Month": 31 * DAY + 3600}
Submit = Callable[[Schedule, SubmitRequest, float], None]


# -- what the service checks --------------------------------------------------------------------------
def recurrence(
    frequency: str,
    interval: int,
    *,
    start_time: str | None = None,
    time_zone: str | None = None,
    hours: Sequence[int] | None = None,
    minutes: Sequence[int] | None = None,
    week_days: Sequence[str] | None = None,
) -> Recurrence:
    """A checked recurrence; a 400 with the SDK's own ``ScheduleRecurrence.validate`` message otherwise
    (a client may skip that check: ``load_yaml`` and raw REST do)."""
    problem = _recurrence_problem(frequency, interval, hours, minutes, week_days)
    if problem:
        raise BadRequest(problem, target="Recurrence")
    if time_zone is not None:
        zone(time_zone)
    if start_time is not None:
        parse_start(start_time)
    return Recurrence.model_validate(
        {
            "frequency": frequency,
            "interval": interval,
            "start_time": start_time,
            "time_zone": time_zone,
            "hours": hours or None,
            "minutes": minutes or None,
            "week_days": week_days or None,
        }
    )


def _recurrence_problem(
    frequency: str,
    interval: int,
    hours: Sequence[int] | None,
    minutes: Sequence[int] | None,
    week_days: Sequence[str] | None,
) -> str | None:
    if frequency not in FREQUENCIES:
        return "Invalid value for frequency, only one of Minute, Hour, Day, Week, or Month accepted"
    if interval < 1:
        return "Interval must be an integer greater than 0."
    if frequency not in ("Day", "Week") and hours:
        return "Can only specify hours if frequency is Week or Day."
    if frequency not in ("Day", "Week") and minutes:
        return "Can only specify minutes if frequency is Week or Day."
    if frequency != "Week" and week_days:
        return "Can only specify week days if frequency is Week."
    if any(not 0 <= hour <= 23 for hour in hours or ()):
        return "Hours must be between 0 and 23."
    if any(not 0 <= minute <= 59 for minute in minutes or ()):
        return "Minutes must be between 0 and 59."
    if any(day not in WEEK_DAYS for day in week_days or ()):
        return f"Week days must be a list of str, accepted values: {', '.join(WEEK_DAYS)}."
    return None


def zone(time_zone: str | None) -> ZoneInfo:
    """The IANA zone of a Windows zone id (the SDK's ``TimeZone`` values); None is UTC."""
    try:
        return ZoneInfo(iana_zone(time_zone or "UTC"))
    except ValueError:
        raise BadRequest(
            f"Time zone '{time_zone}' is not a valid TimeZone: expected a Windows time zone id such as "
            "'UTC' or 'Pacific Standard Time'.",
            target="Recurrence.TimeZone",
        ) from None


def parse_start(start_time: str) -> datetime:
    """A naive ``YYYY-MM-DDThh:mm:ss`` (what the SDK sends); anything else is a 400."""
    try:
        return datetime.strptime(start_time, START_TIME_FORMAT)
    except ValueError:
        raise BadRequest(
            f"StartTime '{start_time}' is not a date and time in the format YYYY-MM-DDThh:mm:ss.",
            target="Recurrence.StartTime",
        ) from None


def datastore_trigger(
    datastore_name: str | None,
    polling_interval: int,
    data_path_parameter_name: str | None,
    path_on_datastore: str | None,
) -> DatastoreTrigger:
    """A checked datastore trigger: the emulator's one datastore, a path inside it, at least a minute."""
    if not datastore_name:
        raise BadRequest(
            "A datastore schedule needs DataStoreTriggerInfo.DataStoreName.", target="DataStoreTriggerInfo"
        )
    if datastore_name != DEFAULT_DATASTORE:
        raise BadRequest(
            f"Datastore '{datastore_name}' was not found; the emulator has only '{DEFAULT_DATASTORE}'.",
            target="DataStoreTriggerInfo.DataStoreName",
        )
    if polling_interval < 1:
        raise BadRequest(
            "PollingInterval must be at least 1 minute.", target="DataStoreTriggerInfo.PollingInterval"
        )
    if path_on_datastore and path_on_datastore.strip("/"):
        try:
            safe_relative(path_on_datastore)
        except ValueError:
            raise BadRequest(
                f"PathOnDataStore '{path_on_datastore}' is not a relative path inside the datastore.",
                target="DataStoreTriggerInfo.PathOnDataStore",
            ) from None
    return DatastoreTrigger(
        datastore_name=datastore_name,
        polling_interval=polling_interval,
        data_path_parameter_name=data_path_parameter_name or None,
        path_on_datastore=path_on_datastore,
    )


# -- when a recurrence fires --------------------------------------------------------------------------
def firing_instants(rule: Recurrence, created: float, after: float | None, until: float) -> list[float]:
    """Epoch instants at which ``rule`` fires in ``(after, until]``, none before ``created`` (from
    ``created`` itself when ``after`` is None). Two slots on one instant (a wall-clock time skipped by
    DST moves forward by the gap, onto the next hour's) fire once."""
    lower = created if after is None else max(created, after)
    found: list[float] = []
    for instant in _series(rule, created, lower):
        if instant > until:
            break
        new = not found or instant > found[-1]
        if new and instant >= created and (after is None or instant > after):
            found.append(instant)
    return found


def _series(rule: Recurrence, created: float, lower: float) -> Iterator[float]:
    """Every firing instant in order, starting a little before ``lower`` (never after it)."""
    tz = zone(rule.time_zone)
    start = parse_start(rule.start_time) if rule.start_time else _local(created, tz)
    if rule.hours or rule.minutes or rule.week_days:
        if rule.start_time is None:
            yield created  # no start time: the first run is immediate, then the pattern
        yield from _slots(rule, start, tz, lower)
    elif rule.frequency in ("Minute", "Hour"):
        step = rule.interval * (60 if rule.frequency == "Minute" else 3600)
        first = _epoch(start, tz)
        yield from (first + k * step for k in itertools.count(max(0, math.ceil((lower - first) / step))))
    else:
        first_k = _skip(lower - _epoch(start, tz), LONGEST_SECONDS[rule.frequency] * rule.interval)
        yield from (_epoch(_calendar(start, rule, k), tz) for k in itertools.count(first_k))


def _slots(rule: Recurrence, start: datetime, tz: ZoneInfo, lower: float) -> Iterator[float]:
    """Hours x minutes on every interval-th day, or on the week days of every interval-th week."""
    times = sorted({time(h, m) for h in rule.hours or [start.hour] for m in rule.minutes or [start.minute]})
    if rule.frequency == "Week":
        period = 7 * rule.interval
        first_day = start.date() - timedelta(days=start.weekday())
        days = sorted(WEEK_DAYS.index(d) for d in rule.week_days or [WEEK_DAYS[start.weekday()]])
    else:
        period, first_day, days = rule.interval, start.date(), [0]
    first_k = _skip(lower - _epoch(_midnight(first_day), tz), period * DAY + 3600)
    for k in itertools.count(first_k):
        for offset in days:
            day = first_day + timedelta(days=k * period + offset)
            for moment in times:
                local = datetime.combine(day, moment)
                if local > start:
                    yield _epoch(local, tz)


def _skip(seconds_ahead: float, longest_period: float) -> int:
    """A period index whose instant is surely not after ``seconds_ahead`` past the first."""
    return max(0, math.floor(seconds_ahead / longest_period) - 1)


def _calendar(start: datetime, rule: Recurrence, k: int) -> datetime:
    """``start`` plus ``k`` intervals in wall-clock time; a month end is clipped (Jan 31 -> Feb 28)."""
    if rule.frequency == "Day":
        return start + timedelta(days=k * rule.interval)
    if rule.frequency == "Week":
        return start + timedelta(weeks=k * rule.interval)
    month = start.month - 1 + k * rule.interval
    year, month = start.year + month // 12, month % 12 + 1
    next_month = date(year + month // 12, month % 12 + 1, 1)
    return start.replace(year=year, month=month, day=min(start.day, (next_month - timedelta(days=1)).day))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def _epoch(local: datetime, tz: ZoneInfo) -> float:
    return local.replace(tzinfo=tz).timestamp()


def _local(epoch: float, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(epoch, tz).replace(tzinfo=None)


# -- the store ----------------------------------------------------------------------------------------
class Schedules:
    """The schedules of the backend's state, behind the backend's lock; :meth:`catch_up` fires them."""

    def __init__(
        self,
        state: Callable[[], State],
        lock: threading.RLock,
        clock: Callable[[], float],
        changed: Callable[[], None],
        *,
        check: Callable[[ScheduleRequest], None],
        submit: Submit,
        datastores: Callable[[], Path],
    ) -> None:
        """``check`` refuses a request whose target or parameters the service would (a 400);
        ``submit`` submits a fired run; ``datastores`` is the folder holding one folder per datastore."""
        self._state, self._lock, self._clock, self._changed = state, lock, clock, changed
        self._check, self._submit, self._datastores = check, submit, datastores

    def create(self, request: ScheduleRequest) -> Schedule:
        with self._lock:
            self._check(request)
            now = self._clock()
            schedule = Schedule(
                **request.model_dump(),
                id=str(uuid.uuid4()),
                created_at=now,
                modified_at=now,
                anchor=math.floor(now),
            )
            self._start(schedule, now)
            self._state().schedules[schedule.id] = schedule
            self._changed()
            self._catch_up(schedule, now)
            return schedule

    def update(self, schedule_id: str, request: ScheduleRequest) -> Schedule:
        """``PUT``: the whole entity as sent. A changed recurrence or trigger starts over from now; an
        enabled schedule fires from now on (nothing missed while disabled)."""
        with self._lock:
            schedule = self.get(schedule_id)
            if request.is_recurrence != schedule.is_recurrence:
                raise BadRequest("ScheduleType cannot change.", target="ScheduleType")
            if (request.pipeline_id, request.endpoint_id) != (schedule.pipeline_id, schedule.endpoint_id):
                raise BadRequest("A schedule's pipeline or endpoint cannot change.", target="PipelineId")
            self._check(request)
            now = self._clock()
            restart = (request.recurrence, request.trigger) != (schedule.recurrence, schedule.trigger)
            resumed = request.status == "Active" and schedule.status != "Active"
            changes = {**request.model_dump(), "etag": schedule.etag + 1, "modified_at": now}
            updated = Schedule.model_validate({**schedule.model_dump(), **changes})
            if restart:
                updated.anchor = math.floor(now)
                self._start(updated, now)
            elif resumed:
                self._start(updated, now, resumed=True)
            self._state().schedules[schedule_id] = updated
            self._changed()
            self._catch_up(updated, now)
            return updated

    def get(self, schedule_id: str) -> Schedule:
        with self._lock:
            schedule = self._state().schedules.get(schedule_id)
        if schedule is None:
            raise NotFound(f"Schedule '{schedule_id}' was not found.", target="scheduleId")
        return schedule

    def list(
        self, *, active_only: bool = False, pipeline_id: str | None = None, endpoint_id: str | None = None
    ) -> list[Schedule]:
        with self._lock:
            return [
                s
                for s in self._state().schedules.values()
                if (not active_only or s.status == "Active")
                and (pipeline_id is None or s.pipeline_id == pipeline_id)
                and (endpoint_id is None or s.endpoint_id == endpoint_id)
            ]

    def catch_up(self) -> None:
        """Submit every run due by now, of every active schedule. Cheap when there are none."""
        if not self._state().schedules:
            return
        with self._lock:
            now = self._clock()
            for schedule in list(self._state().schedules.values()):
                self._catch_up(schedule, now)

    def _start(self, schedule: Schedule, now: float, *, resumed: bool = False) -> None:
        """Where firing starts: a recurrence from its anchor (or, resumed, after now); a datastore
        schedule from the files there now (only later changes fire)."""
        schedule.fired_through = now if resumed else None
        schedule.polled_at = now
        if schedule.trigger is not None:
            schedule.seen = self._files(schedule.trigger)

    def _catch_up(self, schedule: Schedule, now: float) -> None:
        if schedule.status != "Active":
            return
        if schedule.recurrence is not None:
            self._fire_recurrence(schedule, schedule.recurrence, now)
        elif schedule.trigger is not None:
            self._poll(schedule, schedule.trigger, now)

    def _fire_recurrence(self, schedule: Schedule, rule: Recurrence, now: float) -> None:
        due = firing_instants(rule, schedule.anchor, schedule.fired_through, now)
        if not due:
            return
        if len(due) > MAX_FIRES:
            log.warning("schedule %s: %d runs due; submitting the last %d", schedule.id, len(due), MAX_FIRES)
        for instant in due[-MAX_FIRES:]:
            self._fire(schedule, schedule.submission, instant)
        schedule.fired_through = due[-1]
        self._changed()

    def _poll(self, schedule: Schedule, trigger: DatastoreTrigger, now: float) -> None:
        period = trigger.polling_interval * 60
        if now < schedule.polled_at + period:
            return
        schedule.polled_at += math.floor((now - schedule.polled_at) / period) * period
        files = self._files(trigger)
        changed = sorted(path for path, mtime in files.items() if schedule.seen.get(path) != mtime)
        schedule.seen = files
        self._changed()
        for path in changed:
            request = schedule.submission
            if trigger.data_path_parameter_name:
                data_path = DataPathRef(datastore_name=trigger.datastore_name, relative_path=path)
                paths = {**request.data_paths, trigger.data_path_parameter_name: data_path}
                request = request.model_copy(update={"data_paths": paths})
            self._fire(schedule, request, schedule.polled_at)

    def _fire(self, schedule: Schedule, request: SubmitRequest, instant: float) -> None:
        """Submit one run; a refusal (pipeline disabled since) is logged, and the schedule goes on."""
        try:
            self._submit(schedule, request.model_copy(update={"schedule_id": schedule.id}), instant)
        except EmulatorError as error:
            log.warning("schedule %s (%s) could not submit a run: %s", schedule.id, schedule.name, error)

    def _files(self, trigger: DatastoreTrigger) -> dict[str, int]:
        """Files directly in the watched folder, by datastore-relative path, with their modification time."""
        prefix = (trigger.path_on_datastore or "").strip("/")
        folder = self._datastores() / trigger.datastore_name / prefix
        if not folder.is_dir():
            return {}
        return {
            f"{prefix}/{entry.name}" if prefix else entry.name: entry.stat().st_mtime_ns
            for entry in folder.iterdir()
            if entry.is_file()
        }
