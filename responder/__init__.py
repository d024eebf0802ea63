"""The responder: the PR-style response queue (routing, assignment, SLA, suggestions, approval, sending),
and the accounts that work it (`responder.accounts`: logins, staff and teams).

Public functions the dashboard and CLI call (permission action names from dangol.core.permissions:
queue.claim, queue.reply, queue.close, queue.note, queue.label, queue.bulk, reply.review, customer.link,
customer.merge, customer.export, admin.rules).
`session` is always a keyword argument; the caller owns
the transaction (commit) unless noted. `actor` is a `storage.models.Staff`; every state-changing call
checks `dangol.core.permissions.require(actor, action)` first and writes an audit event.

Queue (responder.queue)
    route_new(*, session, settings, now=None) -> RouteResult                    pipeline entry point; each pass
        also wakes due snoozed items, records SLA breaches and auto-assigns the backlog
    list_queue(filters: QueueFilters | None = None, *, session, sort="priority", page=1, page_size=25,
        cursor: Cursor | None = None, now=None, warn_before=timedelta(minutes=30))
        -> QueuePage(items: list[QueueItem], total: int, page: int, page_size: int,
                     previous: Cursor | None, next: Cursor | None, total_is_exact: bool; .pages, .describe())
        the one queue query (dashboard and `dangol queue list`; storage.queue.queue_page);
        keyset paging: pass a page's `next`/`previous` as `cursor` (page is then the number shown);
        the count stops at storage.queue.COUNT_LIMIT (then total_is_exact is False);
        sort: "priority" | "oldest" | "newest" | "due"; QueueFilters(status, team, assignee_id,
        unassigned, priority, platform, topic, sentiment, language, tag, customer_id, sla_breached,
        sla: "ok" | "warning" | "breached", text)
    get_item(item_id, *, session) -> QueueItem                                   NotFound
    set_status(item_id, status, *, actor, session, now=None) -> QueueItem        InvalidTransition
    snooze(item_id, until, *, actor, session, now=None) -> QueueItem
    wake_snoozed(*, session, now=None) -> list[QueueItem]
    close(item_id, *, actor, session, now=None) -> QueueItem
    mark_spam(item_id, *, actor, session, now=None) -> QueueItem
    add_note(item_id, text, *, actor, session, now=None) -> Note
    add_tag(item_id, tag, *, actor, session) -> QueueItem
    bulk(item_ids, action, *, actor, session, **kwargs) -> BulkResult(done: list[int], failed: dict[int, str])
        action: "close" | "mark_spam" | "assign" (staff_id=) | "add_tag" (tag=) | "snooze" (until=)
Statuses (responder.statuses)
    STATUSES, TRANSITIONS, OPEN_STATUSES, check_transition(current, new) -> None   InvalidTransition
Assignment (responder.assignment)
    claim(item_id, *, actor, session, now=None) -> QueueItem       atomic; Conflict if someone else won
    release(item_id, *, actor, session, now=None) -> QueueItem
    assign(item_id, staff_id, *, actor, session, now=None) -> QueueItem
    auto_assign(*, session, settings, now=None) -> list[QueueItem]  serves the unassigned backlog
    open_load(staff_id, *, session) -> int
SLA (responder.sla)
    due_at(start, minutes, policy: SlaPolicySettings, hours: BusinessHoursSettings) -> datetime
    sla_state(item, now=None, *, warn_before=None) -> "ok" | "warning" | "breached" | "paused"
        warn_before: timedelta (default 30 min); the policy's own: sla.warn_before(item, responder, platform)
    check_breaches(*, session, now=None) -> list[QueueItem]     marks + audits "sla.breach"
    warnings(*, session, settings, now=None) -> list[QueueItem]           items about to breach
    policy_for(name, platform, settings) -> (key, SlaPolicySettings)      "<name>:<platform>" first
    pause(item, *, now) / resume(item, *, responder, platform, now)
Suggestions (responder.suggest)
    suggest(item_id, *, session) -> list[Suggestion(text, source, explanation)]
Approval (responder.approval)
    needs_approval(item, post, author, analysis, settings) -> list[str]    reasons, empty when none
    submit_reply(item_id, text, *, actor, session, settings, source="staff", sender=None) -> Reply
        pending_approval when approval is needed, otherwise sent at once (see send_reply)
    review(reply_id, decision: "approve" | "reject", *, actor, session, comment="", edited_text=None,
        settings=None, sender=None) -> Reply     with settings, an approved reply is sent at once (COMMITS);
        a reject needs a comment; nobody reviews their own reply
Sending (responder.sending; senders in responder.senders)
    send_reply(reply_id, *, actor, session, settings, sender=None) -> Reply
        COMMITS: records status "sending" before posting and "sent" (external_id) after.
    sender_for(platform, settings) -> Sender     DryRunSender unless send = true and credentials are set
Labels (responder.labels)
    correct_labels(*, session, actor, post_id, sentiment=None, topic=None) -> list[LabelFeedback]
        queue.label; stored for retraining, the queue item relabelled, one "queue.label" audit event
Customers (responder.customers)
    decide_link(*, session, actor, link_id, confirm) -> IdentityLink          customer.link
    merge_customers(*, session, actor, source_id, target_id) -> AuditEvent    customer.merge; the event lists
        the rows moved, which undo_merge(*, session, actor, source_id) moves back
    export_customer(*, session, actor, customer_id) -> dict     customer.export; actor=None from the CLI
        (audited as "system:cli")
Customer memory (responder.memory)
    customer_history(customer_id, *, session) -> CustomerHistory
    item_context(item_id, *, session) -> ItemContext(item, post, author, analysis, customer, history,
        notes, replies, assignee, note_authors: {staff id: username}, feedback)   what the Item page shows;
        history.items: every queue item on the customer's posts (history.open_items: the open ones)
Routing rules (responder.routing)
    list_rules(*, session, responder) -> list[Rule]         DB rules when present, else config rules
    seed_from_config(*, actor, session, responder) -> list[RoutingRule]   copy config rules into the table
    add_rule(name, when, then, *, actor, session, position=None) -> RoutingRule
    update_rule(rule_id, *, actor, session, name=None, when=None, then=None, enabled=None) -> RoutingRule
    reorder_rules(rule_ids, *, actor, session) -> list[RoutingRule]
    delete_rule(rule_id, *, actor, session) -> None
Logins (responder.accounts.auth)
    attempt_login(*, session, username, password, settings: DashboardSettings, client="unknown", now=None)
        -> LoginAttempt      throttled per username and per client (storage.login_throttles); never raises
        for a wrong password, every outcome audited
    current_staff(*, session, staff_id, last_activity, settings, now=None) -> Staff     SessionExpired
    record_logout(*, session, staff_id, reason="logout") -> None
    hash_password(password) -> str, verify_password(password_hash, password) -> bool, find_staff(session, username)
Staff and teams (responder.accounts.staff)
    create_staff(*, session, username, password, role, team=None, languages=None, display_name="",
        capacity=10, actor="system:cli") -> Staff       the CLI makes the first admin this way
    update_staff(*, session, actor, staff_id, role=None, team=None, languages=None, capacity=None,
        active=None) -> Staff                                              admin.staff
    reset_password(*, session, actor, staff_id, password), unlock(*, session, actor, staff_id),
        lift_block(*, session, actor, key)      admin.staff; actor=None only from the CLI
    save_team(*, session, actor, key, name=None) -> Team                     admin.teams
    list_staff(*, session, include_inactive=True), list_teams(*, session), team_key(*, session, staff)
Audit (storage.audit)
    record(session, *, actor, action, entity_type, entity_id, before=None, after=None) -> AuditEvent
    list_events(*, session, actor=None, action=None, since=None, until=None, entity_type=None,
        entity_id=None, limit=100) -> list[AuditEvent]
"""
