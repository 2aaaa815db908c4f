"""Type-checked only, never run: misuse that mypy and pyright must refuse.

Each line below is an error, silenced by an ignore comment that names the error's code
(mypy's) and rule (pyright's). mypy --strict reports an ignore that silences nothing,
and so does pyright with tests/typing/pyrightconfig.json: if a line stops being an
error, the type check fails. tests/test_typing.py also strips the comments and checks
that each checker reports exactly these lines, with these codes.
"""

from __future__ import annotations

from datetime import datetime

import attrs

import moor7

START, END = datetime(2021, 8, 1), datetime(2021, 8, 31)


@attrs.frozen
class Member:
    agent_number: str


async def enum_arguments(client: moor7.AsyncClient, login: str) -> None:
    # A misspelt value, another enum's member, a plain str: each a type error.
    await client.agent_online("2000", login_type="PTSN")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await client.agent_online("2000", login_type=moor7.OnlineStatus.IDLE)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await client.agent_online("2000", login_type=login)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await client.agent_online("2000", login_type="SIP", status="idle")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await client.get_im_session_report(start=START, end=END, dimension="hours")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await client.request("/openapi/v1/x", kind="querry")  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]
    await client.list_sip_numbers(register_statuses=[2])  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    await client.get_number_pool(priority="urgent")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await client.request("/openapi/v1/x", priority="later")  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]


async def no_max_age_for_an_action(client: moor7.AsyncClient) -> None:
    # An action's answer is never kept: its methods take no max_age at all.
    await client.agent_online("2000", login_type="PSTN", max_age=30)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


async def a_str_where_a_collection_is_meant(client: moor7.AsyncClient) -> None:
    await client.create_dialout_task(name="t", creator="2001", agent_numbers="2000")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await client.create_dialout_task(name="t", creator="2001", queue_numbers="q1")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await client.get_display_number_answer_report(numbers="9813", start=START, end=END)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    await client.get_im_session_report(start=START, end=END, access_ids="XhRR")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def the_sync_client_alike(client: moor7.Client) -> None:
    client.agent_online("2000", login_type="PTSN")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    client.create_dialout_task(name="t", creator="2001", agent_numbers="2000")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    client.request("/openapi/v1/x", kind="querry")  # type: ignore[call-overload]  # pyright: ignore[reportArgumentType]


async def typed_results(client: moor7.AsyncClient, number: moor7.PhoneNumber) -> None:
    # The enum is in the field's type: an unlisted value must be ruled out first.
    ability: moor7.CallAbility = number.call_ability  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    # request(result_type=...) returns that type, not Any.
    members: list[str] = await client.request("/openapi/v1/x", result_type=list[Member])  # type: ignore[arg-type]  # pyright: ignore[reportAssignmentType]
    print(ability, members)
