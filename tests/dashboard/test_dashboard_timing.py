"""`python -m dashboard.timing` runs every dashboard query it times."""

from dashboard.timing import main


def test_timing_command_times_every_query(dashboard_db, capsys) -> None:
    main(["--url", dashboard_db.url, "--repeat", "1"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 12 and all(line.endswith(" ms") for line in lines)
