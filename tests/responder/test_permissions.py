"""The role → actions table and `require`."""

import pytest

from dangol.core.errors import ActionError, Forbidden
from dangol.core.permissions import ACTIONS, PERMISSIONS, ROLES, allowed, require, validate_role
from storage.models import Staff


def person(role: str, active: bool = True) -> Staff:
    return Staff(username=f"a_{role}", role=role, active=active)


def test_every_role_has_an_entry_and_only_known_actions() -> None:
    assert set(PERMISSIONS) == set(ROLES)
    for actions in PERMISSIONS.values():
        assert actions <= set(ACTIONS)


# api.token is everyone's: a personal API token acts with its owner's role and reaches no further.
# So are one's own inbox and availability.
READS = {"report.view", "alert.view", "topic.view", "api.token", "notifications.self", "availability.self"}
# What each role may do, written out here rather than derived from the module under test: a new
# action, or a change to a role, has to be decided on in this table too.
GRANTED = {
    "agent": READS | {"queue.view", "queue.claim", "queue.reply", "queue.bulk", "queue.close", "queue.note",
                      "queue.label", "customer.view", "customer.link"},
    "lead": READS | {"queue.view", "queue.claim", "queue.reply", "queue.bulk", "queue.close", "queue.note",
                     "queue.label", "customer.view", "customer.link", "queue.reassign", "reply.review",
                     "team.performance", "source.view"},
    "pr_reviewer": READS | {"queue.view", "queue.note", "reply.review", "customer.view"},
    "product": READS | {"queue.view", "topic.export"},
    "admin": READS | {"queue.view", "queue.claim", "queue.reassign", "queue.reply", "queue.bulk", "queue.close",
                      "queue.note", "queue.label", "reply.review", "customer.view", "customer.link",
                      "customer.merge", "customer.export", "customer.erase", "customer.import", "segment.export",
                      "topic.export",
                      "source.view", "admin.staff", "admin.teams", "admin.rules", "admin.topics",
                      "team.performance"},
}  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_granted_exactly_the_actions_in_the_table(role: str) -> None:
    assert {action for action in ACTIONS if allowed(person(role), action)} == GRANTED[role]
    for action in GRANTED[role]:
        require(person(role), action)
    for action in set(ACTIONS) - GRANTED[role]:
        with pytest.raises(Forbidden):
            require(person(role), action)


@pytest.mark.parametrize("action", ["queue.claim", "queue.reply", "queue.bulk", "customer.erase", "admin.staff"])
def test_product_user_is_refused_queue_and_customer_actions(action: str) -> None:
    with pytest.raises(Forbidden, match="role 'product' may not"):
        require(person("product"), action)


def test_agent_replies_but_does_not_review_or_administer() -> None:
    agent = person("agent")
    require(agent, "queue.reply")
    assert not allowed(agent, "reply.review")
    assert not allowed(agent, "admin.rules")


def test_only_leads_reviewers_and_admins_review_replies() -> None:
    assert [r for r in ROLES if allowed(person(r), "reply.review")] == ["lead", "pr_reviewer", "admin"]


def test_only_leads_and_admins_see_each_agents_figures() -> None:
    assert [r for r in ROLES if allowed(person(r), "team.performance")] == ["lead", "admin"]


def test_refusal_names_the_roles_that_may() -> None:
    with pytest.raises(Forbidden, match="roles allowed: lead, pr_reviewer, admin"):
        require(person("agent"), "reply.review")


def test_deactivated_admin_is_refused() -> None:
    with pytest.raises(Forbidden, match="deactivated"):
        require(person("admin", active=False), "queue.view")


def test_unknown_action_is_refused_not_allowed() -> None:
    with pytest.raises(Forbidden, match="unknown action 'queue.delete_everything'"):
        require(person("admin"), "queue.delete_everything")


def test_unknown_role_is_refused_with_valid_roles() -> None:
    with pytest.raises(ActionError, match="valid roles: agent, lead, pr_reviewer, product, admin"):
        validate_role("superuser")
    assert not allowed(person("superuser"), "queue.view")
