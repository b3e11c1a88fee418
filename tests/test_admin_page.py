"""The Admin page (pages/admin.py) through Streamlit's AppTest, on a real database.

Long because it walks every field's errors, the form's manners (one post per form,
only existing handles, empty after a post), the seeding tools and production's refusals."""

import logging

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.helpers import add_user

PAGE = str(ROOT / "pages" / "admin.py")
GROWTH = str(ROOT / "pages" / "growth.py")
PASSWORD = "correct-horse-battery"


@pytest.fixture
def admin_password(monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", PASSWORD)
    return PASSWORD


def sign_in(at, password=PASSWORD):
    at.text_input[0].input(password)
    at.button[0].click().run()
    return at


def signed_in_page(admin_password, *, through_the_form=False):
    """The page as a signed-in admin. Signing in through the form is tested on its own;
    elsewhere the session is marked signed in, so that the growing delay after the
    sign-in tests' wrong passwords does not slow every test."""
    at = AppTest.from_file(PAGE, default_timeout=30)
    if through_the_form:
        return sign_in(at.run())
    at.session_state["admin_user"] = "admin"
    return at.run()


def widget(at, kind, name):
    """The form's widget `name`: its key changes with every rendering of the form (pages/admin.py)."""
    return next(w for w in getattr(at, kind) if (w.key or "").startswith(f"{name}-"))


def choose_handle(at, handle):
    """What the browser sends when a handle is picked or typed (accept_new_options)."""
    box = widget(at, "selectbox", "handle")
    if handle not in box.options:
        box.options.append(handle)
    box.set_value(handle)


def fill(at, handle=None, message=None, ttl=None):
    if handle is not None:
        choose_handle(at, handle)
    if message is not None:
        widget(at, "text_area", "message").input(message)
    if ttl is not None:
        widget(at, "selectbox", "ttl").set_value(ttl)
    return at


def click(at, label):
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception
    return at


def errors(at):
    return [e.value for e in at.error]


def counts(db):
    return db.execute("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM activities)").fetchone()


def flat(node):
    """Every element of the page in document order."""
    children = getattr(node, "children", None)
    if not children:
        return [node]
    out = [node] if getattr(node, "proto", None) is not None else []
    for child in children.values():
        out += flat(child)
    return out


def all_text(at):
    """The text of every element on the page and in the sidebar (their protobuf messages)."""
    return "\n".join(str(getattr(e, "proto", "")) for e in flat(at._tree))


# -- signing in ---------------------------------------------------------------


def test_signed_out_shows_only_the_sign_in_form(db, admin_password):
    add_user(db, "andrewbrown")
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Admin password"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.tabs and not at.selectbox and not at.text_area and not at.metric
    assert "andrewbrown" not in all_text(at)


def test_wrong_password_is_refused_and_the_right_one_opens_the_page(db, admin_password):
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    sign_in(at, "wrong")
    assert errors(at) == ["Wrong password."]
    assert not at.tabs
    sign_in(at, PASSWORD)
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Create activity", "Seed data"]
    assert "Signed in as **admin**" in at.caption[0].value


# -- create activity ----------------------------------------------------------


@pytest.mark.parametrize(
    "inputs, code, field",
    [
        ({"message": "hi", "ttl": "1-day"}, "user_handle_blank", "Author handle"),
        ({"handle": "andrewbrown", "ttl": "1-day"}, "message_blank", "Message"),
        ({"handle": "andrewbrown", "message": "x" * 281, "ttl": "1-day"}, "message_exceed_max_chars", "Message"),
        ({"handle": "andrewbrown", "message": "hi"}, "ttl_blank", "TTL"),
        (
            {"handle": "andrewbrown", "message": "nul \x00 inside", "ttl": "1-day"},
            "message_invalid_characters",
            "Message",
        ),
    ],
)
def test_each_validation_error_appears_under_its_input(db, admin_password, inputs, code, field):
    add_user(db, "andrewbrown")
    at = click(fill(signed_in_page(admin_password), **inputs), "Create activity")
    shown = errors(at)
    assert len(shown) == 2 and f"({code})" in shown[0] and shown[1].startswith("Nothing was written: 1 problem")
    # the error sits between its input and the next one
    order = [getattr(e, "label", None) or getattr(e, "value", None) for e in flat(at._tree)]
    later = {"Author handle": "Message", "Message": "TTL", "TTL": "Create activity"}[field]
    at_field = order.index(field)
    assert at_field < order.index(shown[0]) < order.index(later, at_field)
    assert counts(db) == (1, 0)


def test_several_errors_at_once(db, admin_password):
    add_user(db, "andrewbrown")
    at = click(fill(signed_in_page(admin_password), message="y" * 300), "Create activity")
    shown = errors(at)
    for code in ("user_handle_blank", "message_exceed_max_chars", "ttl_blank"):
        assert any(f"({code})" in text for text in shown), code
    assert shown[-1] == "Nothing was written: 3 problem(s) above."
    fill(at, handle="andrewbrown", message=" ", ttl="1-day")
    db.execute("DELETE FROM users WHERE handle = 'andrewbrown'")  # gone between picking and posting:
    shown = errors(click(at, "Create activity"))  # the picker, read afresh, no longer offers it
    assert "(user_handle_blank)" in shown[0] and "(message_blank)" in shown[1] and len(shown) == 3
    assert counts(db) == (0, 0)


def test_live_character_count_counts_emoji_as_one(db, admin_password):
    at = fill(signed_in_page(admin_password), message="🚀" * 281)
    at.run()
    assert ":red[281 / 280 characters]" in [c.value for c in at.caption]
    widget(at, "text_area", "message").input("🚀" * 280).run()
    assert ":gray[280 / 280 characters]" in [c.value for c in at.caption]


def test_280_emoji_are_accepted(db, admin_password):
    add_user(db, "andrewbrown")
    at = click(fill(signed_in_page(admin_password), "andrewbrown", "🎉" * 280, "3-hours"), "Create activity")
    assert not errors(at)
    assert db.execute("SELECT char_length(message), octet_length(message) FROM activities").fetchone() == (280, 1120)


def test_a_valid_post_is_read_back_and_moves_the_growth_numbers(db, admin_password):
    add_user(db, "andrewbrown")
    growth = AppTest.from_file(GROWTH, default_timeout=30).run()
    before = {m.label: m.value for m in growth.metric}
    assert before["New posts, last 7 days"] == "0"

    at = click(fill(signed_in_page(admin_password), "andrewbrown", "Live demo post", "7-days"), "Create activity")
    assert at.success[0].value.startswith("Posted.")
    shown = at.dataframe[0].value.iloc[0]
    uuid, message, created_at, expires_at = db.execute(
        "SELECT uuid::text, message, created_at, expires_at FROM activities"
    ).fetchone()
    assert (shown["uuid"], shown["author"], shown["message"]) == (uuid, "andrewbrown", message)
    assert (shown["created_at"], shown["expires_at"]) == (created_at, expires_at)

    growth.run()  # same process, within the cache TTL: the write invalidated the cached numbers
    after = {m.label: m.value for m in growth.metric}
    assert after["New posts, last 7 days"] == "1" and after["Total posts"] == "1"


def test_the_handle_box_offers_existing_handles_only_and_a_newcomer_at_once(db, admin_password):
    add_user(db, "andrewbrown")
    at = signed_in_page(admin_password)
    box = widget(at, "selectbox", "handle")
    assert box.options == ["andrewbrown"] and not box.proto.accept_new_options  # no "Add: ..." entry
    add_user(db, "latecomer")
    at.run()
    assert "latecomer" in widget(at, "selectbox", "handle").options  # read fresh on every render
    click(fill(at, "latecomer", "picked from the list", "1-hour"), "Create activity")
    assert not errors(at)
    assert counts(db) == (2, 1)


def test_after_a_post_the_form_is_empty_and_says_what_was_posted(db, admin_password):
    add_user(db, "andrewbrown")
    at = signed_in_page(admin_password)
    old_key = widget(at, "text_area", "message").key
    click(fill(at, "andrewbrown", "Hello, investors", "7-days"), "Create activity")
    assert at.success[0].value.startswith("Posted.") and "7-days" in at.success[0].value
    assert at.dataframe[0].value["message"].tolist() == ["Hello, investors"]
    message = widget(at, "text_area", "message")
    assert message.key != old_key and message.value == ""
    assert widget(at, "selectbox", "handle").value is None and widget(at, "selectbox", "ttl").value is None
    at.run()  # the confirmation is shown once
    assert not at.success


def test_the_same_form_submitted_twice_posts_once(db, admin_password):
    """What a double click sends: the same form's values and key a second time."""
    from actions.activities import create_activity

    add_user(db, "andrewbrown")
    first = create_activity(handle="andrewbrown", message="once", ttl="1-day", idempotency_key="form-1")
    again = create_activity(handle="andrewbrown", message="once", ttl="1-day", idempotency_key="form-1")
    assert first["uuid"].tolist() == again["uuid"].tolist()
    assert counts(db) == (1, 1)
    create_activity(handle="andrewbrown", message="once", ttl="1-day", idempotency_key="form-2")
    assert counts(db) == (1, 2)  # a new form is a new post


def test_concurrent_submissions_of_one_form_post_once(db, admin_password):
    import threading

    from actions.activities import create_activity

    add_user(db, "andrewbrown")
    start = threading.Barrier(4)

    def submit():
        start.wait()
        create_activity(handle="andrewbrown", message="raced", ttl="1-day", idempotency_key="form-race")

    threads = [threading.Thread(target=submit) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert counts(db) == (1, 1)


# -- seed ---------------------------------------------------------------------


def metric_values(at):
    return {m.label: m.value for m in at.metric}


def test_sample_seed_twice_leaves_the_same_counts(db, admin_password):
    at = click(signed_in_page(admin_password), "Load sample rows")
    assert at.success[0].value == "Added 4 user(s) and 1 post(s)."
    assert metric_values(at) == {"Users": "4", "Posts": "1"}
    click(at, "Load sample rows")
    assert at.success[0].value == "Nothing to add: the sample rows are already there."
    assert counts(db) == (4, 1)


def test_generate_shows_progress_and_rows_per_second(db, admin_password):
    at = signed_in_page(admin_password)
    for label, value in (("Users", 40), ("Posts", 400), ("Days of history", 10), ("Random seed", 3)):
        next(n for n in at.number_input if n.label == label).set_value(value)
    click(at, "Generate")
    assert "rows/s" in at.success[0].value and "Added 40 users and 400 posts" in at.success[0].value
    bar = at.get("progress")[0]
    assert bar.proto.value == 100 and "440 of 440 rows" in bar.proto.text and "rows/s" in bar.proto.text
    assert counts(db) == (40, 400)
    assert metric_values(at) == {"Users": "40", "Posts": "400"}


def test_generate_on_a_database_behind_this_code_says_to_migrate_and_leaves_no_bar(db, admin_password):
    db.execute("ALTER TABLE dashboard_rollup_quarter DROP COLUMN minutes")  # as before migration 0009
    at = signed_in_page(admin_password)
    next(n for n in at.number_input if n.label == "Posts").set_value(10)
    click(at, "Generate")
    [error] = errors(at)
    assert error.startswith("Could not generate data: the growth rollup predates migration 0009")
    assert "python -m db migrate" in error and not at.get("progress") and not at.exception
    assert counts(db) == (0, 0)  # nothing written


def test_reset_needs_the_confirmation(db, admin_password):
    add_user(db, "andrewbrown")
    at = click(signed_in_page(admin_password), "Reset users and posts")
    assert "confirm it first" in errors(at)[0]
    assert counts(db) == (1, 0)
    at.checkbox(key="confirm_reset").check()
    click(at, "Reset users and posts")
    assert at.success[0].value == "Users and posts emptied."
    assert counts(db) == (0, 0)


# -- production ---------------------------------------------------------------


def test_production_without_permission_refuses_every_write(db, db_url, admin_password, monkeypatch):
    """The test database poses as production."""
    add_user(db, "andrewbrown")
    monkeypatch.delenv("CONNECTION_URL")
    monkeypatch.setenv("APP_ENV", "prod")
    monkeypatch.setenv("PROD_CONNECTION_URL", db_url)
    at = signed_in_page(admin_password)
    assert "ALLOW_PROD_WRITES" in at.warning[0].value  # said before anyone clicks
    fill(at, "andrewbrown", "should not land", "1-day")
    at.checkbox(key="confirm_reset").check()
    for label in ("Create activity", "Load sample rows", "Generate", "Reset users and posts"):
        click(at, label)
        refusal = (
            "ALLOW_PROD_WRITES is not 1. Nothing was written."
            if label == "Create activity"
            else "never runs there. Nothing was changed."
        )  # demo data and resets: never production
        assert any(refusal in e for e in errors(at)), label
        assert not at.success
    assert counts(db) == (1, 0)


# -- secrets ------------------------------------------------------------------


def test_no_secret_reaches_the_page_or_the_logs(db, db_url, admin_password, monkeypatch, caplog, capsys):
    db_password = "pg-Sup3rSecret"
    # trust authentication ignores the password, so the URL still connects
    monkeypatch.setenv(
        "CONNECTION_URL", db_url.replace("postgresql://postgres:@", f"postgresql://postgres:{db_password}@")
    )
    caplog.set_level(logging.DEBUG)
    add_user(db, "andrewbrown")
    at = signed_in_page(admin_password, through_the_form=True)
    texts = [all_text(at)]
    for action in ("Create activity", "Load sample rows"):
        texts.append(all_text(click(at, action)))
    click(fill(at, "andrewbrown", "a fine post", "1-day"), "Create activity")
    texts.append(all_text(at))
    assert counts(db) == (4, 2)  # the flow did work with that URL
    texts.append(all_text(AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=30).run()))
    # and a database that cannot be reached, with the password in its URL
    monkeypatch.setenv("CONNECTION_URL", f"postgresql://admin:{db_password}@127.0.0.1:9/cruddur?connect_timeout=1")
    monkeypatch.setenv("POOL_TIMEOUT_MS", "1000")
    down = signed_in_page(admin_password)
    assert "database is unavailable" in errors(down)[0]
    texts.append(all_text(down))
    out = capsys.readouterr()
    everything = "\n".join(texts + [caplog.text, out.out, out.err])
    assert db_password not in everything
    assert PASSWORD not in everything


def test_dashboard_routes_to_the_admin_page(db, admin_password):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=30).run()
    at.switch_page("pages/admin.py").run()
    assert not at.exception
    assert at.title[0].value == "Admin"
    assert [t.label for t in at.text_input] == ["Admin password"]
    assert not at.tabs


def test_a_unicode_handle_a_10_kb_message_and_blank_space_are_refused_whole(db, admin_password):
    add_user(db, "zoë_🚀")
    at = click(fill(signed_in_page(admin_password), "zoë_🚀", "ab " * 3500, "1-day"), "Create activity")
    assert "(message_exceed_max_chars)" in errors(at)[0] and "10,500 characters" in errors(at)[0]
    fill(at, message=" \n\t\u3000 ")  # whitespace only, an ideographic space included
    assert "(message_blank)" in errors(click(at, "Create activity"))[0]
    fill(at, handle="nobody-😶", message="typed by hand")  # what a crafted request could send:
    assert "(user_handle_blank)" in errors(click(at, "Create activity"))[0]  # not an option, so dropped
    assert counts(db) == (1, 0)
    fill(at, handle="zoë_🚀", message="Grüße 🚀")
    click(at, "Create activity")
    assert not errors(at) and counts(db) == (1, 1)
    assert db.execute("SELECT message FROM activities").fetchone()[0] == "Grüße 🚀"
