"""Accounts: who may sign in and who the staff are.

`auth` is the login side (password hashes, throttled attempts, idle sessions); `staff` administers
staff members and teams (create, change role or team, reset passwords, unlock). Permissions, what
each role may do, are `dangol.core.permissions`'.
"""
