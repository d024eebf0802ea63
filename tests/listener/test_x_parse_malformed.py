from listener.x import parse_x


def test_includes_users_of_the_wrong_type_are_ignored_not_a_crash() -> None:
    body = {"data": [{"id": "1", "text": "hello", "author_id": "9"}], "includes": {"users": 7}}
    posts, dead = parse_x(body)
    assert dead == []
    assert [(p.external_id, p.author.platform_id) for p in posts] == [("1", "9")]
