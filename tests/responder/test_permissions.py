"""The role → actions table and `require`."""

import pytest

from dangol.errors import Forbidden, QueueError
from responder.permissions import ACTIONS, PERMISSIONS, ROLES, allowed, require, validate_role
from storage.models import Staff


def person(role: str, active: bool = True) -> Staff:
    return Staff(username=f"a_{role}", role=role, active=active)


def test_every_role_has_an_entry_and_only_known_actions() -> None:
    assert set(PERMISSIONS) == set(ROLES)
    for actions in PERMISSIONS.values():
        assert actions <= set(ACTIONS)


def test_admin_may_do_everything() -> None:
    for action in ACTIONS:
        require(person("admin"), action)


@pytest.mark.parametrize("action", ["queue.claim", "queue.reply", "queue.bulk", "customer.erase", "admin.staff"])
def test_product_user_is_refused_queue_and_customer_actions(action: str) -> None:
    with pytest.raises(Forbidden, match="role 'product' may not"):
        require(person("product"), action)


def test_agent_replies_but_does_not_review_or_administer() -> None:
    agent = person("agent")
    require(agent, "queue.reply")
    assert not allowed(agent, "reply.review")
    assert not allowed(agent, "admin.rules")


def test_only_reviewers_and_admins_review_replies() -> None:
    assert [r for r in ROLES if allowed(person(r), "reply.review")] == ["pr_reviewer", "admin"]


def test_refusal_names_the_roles_that_may() -> None:
    with pytest.raises(Forbidden, match="roles allowed: pr_reviewer, admin"):
        require(person("agent"), "reply.review")


def test_deactivated_admin_is_refused() -> None:
    with pytest.raises(Forbidden, match="deactivated"):
        require(person("admin", active=False), "queue.view")


def test_unknown_action_is_refused_not_allowed() -> None:
    with pytest.raises(Forbidden, match="unknown action 'queue.delete_everything'"):
        require(person("admin"), "queue.delete_everything")


def test_unknown_role_is_refused_with_valid_roles() -> None:
    with pytest.raises(QueueError, match="valid roles: agent, pr_reviewer, product, admin"):
        validate_role("superuser")
    assert not allowed(person("superuser"), "queue.view")
