"""Capacity schedules as recurrence profiles of a scale set's Azure Monitor autoscale setting.

One schedule is one profile with a weekly ``recurrence`` (``frequency: Week``; ``schedule``:
time zone, days, hours, minutes): from each start time on, Azure holds the set in that
profile's capacity, until the next profile starts. A fleet without autoscaling gets the fixed
count ``minimum = maximum = default = capacity``; a fleet with a policy keeps its rules inside
the schedule's bounds (``default`` = capacity, used when no metric can be read). The setting's
first profile stays the policy's (or, without one, the fleet's count when the first schedule
was made).

Azure names time zones the Windows way ("W. Europe Standard Time"); the IANA name is mapped
with ``tzlocal``'s CLDR table, and the schedule's own cron line and IANA zone are kept in a tag
of the setting so they list back exactly. A cron line with a day of month or a month cannot be
a weekly recurrence and is refused before any call::

    >>> recurrence(CapacitySchedule(fleet="web", cron="0 19 * * MON-FRI", capacity=0, timezone="Europe/Berlin"))
    {'frequency': 'Week', 'schedule': {'timeZone': 'W. Europe Standard Time',
     'days': ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'], 'hours': [19], 'minutes': [0]}}
"""

from __future__ import annotations

from typing import Any

from ...models import CapacitySchedule

__all__ = [
    "delete",
    "DAYS",
    "from_profiles",
    "keep",
    "listing",
    "MAX_PROFILES",
    "profile",
    "put",
    "recurrence",
    "refusal",
    "tag_of",
    "TAG_PREFIX",
    "windows_zone",
]

DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")  # cron weekday 0 = Sunday
TAG_PREFIX = "clusterdb-schedule-"
MAX_PROFILES = 20  # Azure Monitor's limit of profiles per autoscale setting


def windows_zone(iana: str) -> str | None:
    """The Windows time zone Azure expects for ``iana`` (``Europe/Berlin`` -> ``W. Europe Standard Time``)."""
    from tzlocal.windows_tz import tz_win

    found: str | None = tz_win.get(iana)
    return found


def _fields(cron: str) -> Any:
    import cronsim

    return cronsim.CronSim(cron, __import__("datetime").datetime(2026, 1, 1))


def refusal(schedule: CapacitySchedule) -> str | None:
    """Why ``schedule`` cannot be an Azure weekly recurrence, or None."""
    _, _, day, month, weekday = schedule.cron.split()
    if day != "*" or month != "*" or "#" in weekday or "L" in weekday.upper():
        return (
            f"Azure autoscale recurrences repeat weekly (days, hours, minutes): the cron line {schedule.cron!r} names a "
            "day of the month, a month or an nth weekday; use '*' for both, and plain weekdays"
        )
    if windows_zone(schedule.timezone) is None:
        return f"Azure has no Windows time zone for {schedule.timezone!r}; use a canonical IANA name such as 'Europe/Berlin'"
    return None


def recurrence(schedule: CapacitySchedule) -> dict[str, Any]:
    """The profile's ``recurrence`` (REST shape) for ``schedule``."""
    parsed = _fields(schedule.cron)
    return {
        "frequency": "Week",
        "schedule": {
            "timeZone": windows_zone(schedule.timezone),
            "days": [DAYS[d % 7] for d in sorted({d % 7 for d in parsed.weekdays}, key=lambda d: (d + 6) % 7)],
            "hours": sorted(parsed.hours),
            "minutes": sorted(parsed.minutes),
        },
    }


def profile(schedule: CapacitySchedule, rules: list[Any]) -> dict[str, Any]:
    """The recurrence profile (REST shape): a fixed count, or the policy's ``rules`` within the schedule's bounds."""
    n = schedule.capacity
    lo, hi = (schedule.min_capacity, schedule.max_capacity) if rules else (n, n)
    capacity = {"minimum": str(n if lo is None else lo), "maximum": str(n if hi is None else hi), "default": str(n)}
    return {"name": schedule.name, "capacity": capacity, "rules": rules, "recurrence": recurrence(schedule)}


def tag_of(schedule: CapacitySchedule) -> tuple[str, str]:
    """The setting tag that keeps the schedule's own cron line and IANA zone."""
    return f"{TAG_PREFIX}{schedule.name}", f"{schedule.cron}|{schedule.timezone}"


def _cron_of(rec: dict[str, Any]) -> str:
    s = rec["schedule"]
    days = ",".join(str(DAYS.index(d)) for d in s.get("days") or DAYS)
    return f"{','.join(map(str, s['minutes']))} {','.join(map(str, s['hours']))} * * {days}"


def from_profiles(profiles: list[dict[str, Any]], tags: dict[str, str], fleet: str, provider: str) -> list[CapacitySchedule]:
    """The schedules among a setting's profiles (REST shape): those with a weekly recurrence."""
    from tzlocal.windows_tz import win_tz

    out = []
    for p in profiles:
        rec = p.get("recurrence")
        if not rec or rec.get("frequency") != "Week":
            continue
        cron, _, zone = tags.get(f"{TAG_PREFIX}{p['name']}", "").partition("|")
        fixed = p["capacity"]["minimum"] == p["capacity"]["maximum"]
        out.append(
            CapacitySchedule(
                fleet=fleet,
                name=p["name"],
                cron=cron or _cron_of(rec),
                timezone=zone or win_tz.get(rec["schedule"]["timeZone"], "UTC"),
                capacity=int(p["capacity"]["default"]),
                min_capacity=None if fixed else int(p["capacity"]["minimum"]),
                max_capacity=None if fixed else int(p["capacity"]["maximum"]),
                provider=provider,
            )
        )
    return out


def keep(setting: Any, old: Any | None) -> Any:
    """``setting`` (a new policy's, SDK model) with ``old``'s recurrence profiles and their tags kept."""
    if old is None:
        return setting
    setting.profiles = [*setting.profiles, *(q for q in old.profiles if q.recurrence is not None)]
    setting.tags = {**(setting.tags or {}), **{k: v for k, v in (old.tags or {}).items() if k.startswith(TAG_PREFIX)}}
    return setting


# -- the provider's three calls, on the fleet's autoscale setting (REST shapes through the SDK's models) --
async def _setting_body(p: Any, fleet: str, operation: str) -> tuple[Any, dict[str, Any]]:
    """The scale set, and its autoscale setting as REST JSON (a fixed-count one when it has none yet)."""
    vmss = await p._scale_set(fleet, operation)
    setting = await p._setting(fleet, operation)
    if setting is not None:
        return vmss, setting.serialize()
    n = str(vmss["sku"]["capacity"])
    base = {"name": "clusterdb", "capacity": {"minimum": n, "maximum": n, "default": n}, "rules": []}
    return vmss, {
        "location": p.region,
        "tags": dict(vmss.get("tags") or {}),
        "properties": {"profiles": [base], "enabled": True, "targetResourceUri": vmss["id"]},
    }


async def _save(p: Any, fleet: str, body: dict[str, Any], operation: str) -> None:
    from azure.mgmt.monitor import models as m

    from .autoscale import setting_name

    resource = m.AutoscaleSettingResource.deserialize(body)
    monitor = p.clients.monitor
    await p.clients.calls.run(
        operation, lambda: monitor.autoscale_settings.create_or_update(p._rg, setting_name(fleet), resource)
    )


async def put(p: Any, schedule: CapacitySchedule) -> CapacitySchedule:
    """Add (or replace) ``schedule``'s recurrence profile on its fleet's autoscale setting."""
    from ...errors import QuotaExceededError

    op = "put_schedule"
    _, body = await _setting_body(p, schedule.fleet, op)
    profiles = body["properties"]["profiles"]
    kept = [q for q in profiles if q["name"] != schedule.name]
    if len(kept) >= MAX_PROFILES:
        raise QuotaExceededError(
            f"fleet {schedule.fleet!r}'s autoscale setting already holds {len(kept)} profiles, Azure's limit is {MAX_PROFILES}",
            provider=p.name,
            operation=op,
            solution="Delete a schedule first (s.delete_schedule), or combine schedules of the same capacity",
        )
    body["properties"]["profiles"] = [*kept, profile(schedule, profiles[0].get("rules") or [])]
    key, value = tag_of(schedule)
    body["tags"] = {**(body.get("tags") or {}), key: value}
    await _save(p, schedule.fleet, body, op)
    fixed = not profiles[0].get("rules")
    return schedule._replace(provider=p.name, **({"min_capacity": None, "max_capacity": None} if fixed else {}))


async def listing(p: Any, fleet: str | None) -> list[CapacitySchedule]:
    """The schedules of ``fleet`` (else of every fleet) from their autoscale settings."""
    names = [fleet] if fleet else [f.name for f in await p.list_fleets()]
    out: list[CapacitySchedule] = []
    for name in names:
        setting = await p._setting(name, "list_schedules")
        if setting is not None:
            body = setting.serialize()
            out += from_profiles(body["properties"]["profiles"], body.get("tags") or {}, name, p.name)
    return out


async def delete(p: Any, fleet: str, name: str) -> None:
    """Remove ``name``'s recurrence profile (and its tag) from the fleet's autoscale setting."""
    op = "delete_schedule"
    _, body = await _setting_body(p, fleet, op)
    body["properties"]["profiles"] = [q for q in body["properties"]["profiles"] if q["name"] != name]
    body["tags"] = {k: v for k, v in (body.get("tags") or {}).items() if k != f"{TAG_PREFIX}{name}"}
    await _save(p, fleet, body, op)
