"""Readers' preferences, what each was sent, and issues with their archive copies.

A reader's preferences are a row in `preferences` (none means every category,
the default cadence). What a reader was sent is in the ledger: each delivery
names a cut of its issue (`issue_cuts`), the positions of the posts that
reader got. `reader_sent` points each reader at a shared `sent_sets` row, the
posts they were sent that are still recent enough to matter, so readers with
the same history share one row and planning reads each history once.

Planning runs over a temporary table, `plan`, with one row per reader to mail:
readers fall into groups by cadence, categories, history and how far back they
may be sent posts, and one SQL statement per step writes the whole list.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import NamedTuple

from publisher.state.rows import Queries, from_text, to_text

KEY_SEPARATOR = "\x1f"
ALL_CATEGORIES = "*"


class PreferenceRow(NamedTuple):
    subscriber_id: int
    categories: tuple[str, ...] | None
    """Category slugs; None for every category, including new ones."""
    cadence: str
    updated_at: datetime


class ReaderGroup(NamedTuple):
    """Readers who are due exactly the same posts."""

    key: str
    cadence: str
    categories: tuple[str, ...] | None
    sent_set: int
    """0 when they were sent nothing yet."""
    skipped: int
    """How many of the oldest pool posts came before they may be sent anything."""
    readers: int


class IssueRow(NamedTuple):
    digest_id: int
    number: int
    cadence: str
    created_at: datetime
    subject: str
    posts: str
    """JSON: what the issue says of each post (id, title, excerpt, sha256), newest first."""
    archive_html: str
    archive_text: str


class NewIssue(NamedTuple):
    number: int
    cadence: str
    subject: str
    html: str
    text: str
    posts: str
    mailed: tuple[str, ...]
    """The ids of the posts some reader's cut holds, in issue order."""
    archive_html: str
    archive_text: str
    cuts: dict[int, tuple[int, ...]]
    """Cut number → positions of its posts."""
    readers: dict[str, int]
    """Group key → the cut its readers get."""


class Forgotten(NamedTuple):
    """What new sent sets leave out: posts published before `floor` (posix seconds)."""

    floor: float
    posts: frozenset[str]
    """The ids of posts some reader was sent that their new set no longer names."""


def encode_categories(categories: Iterable[str] | None) -> str | None:
    return None if categories is None else json.dumps(sorted(set(categories)), ensure_ascii=False)


def decode_categories(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(json.loads(text))


def store_preferences(
    db: sqlite3.Connection,
    subscriber_id: int,
    categories: Iterable[str] | None,
    cadence: str,
    now: datetime,
) -> None:
    """Set a reader's preferences, inside the caller's transaction."""
    db.execute(
        "INSERT INTO preferences (subscriber_id, categories, cadence, updated_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (subscriber_id) DO UPDATE SET "
        "categories = excluded.categories, cadence = excluded.cadence, "
        "updated_at = excluded.updated_at",
        (subscriber_id, encode_categories(categories), cadence, to_text(now)),
    )


class ReaderQueries(Queries):
    # preferences ------------------------------------------------------------

    def preferences_of(self, subscriber_id: int) -> PreferenceRow | None:
        row = self._db.execute(
            "SELECT subscriber_id, categories, cadence, updated_at FROM preferences "
            "WHERE subscriber_id = ?",
            (subscriber_id,),
        ).fetchone()
        if row is None:
            return None
        return PreferenceRow(row[0], decode_categories(row[1]), row[2], from_text(row[3]))

    def set_preferences(
        self,
        subscriber_id: int,
        categories: Iterable[str] | None,
        cadence: str,
        now: datetime,
    ) -> None:
        with self.transaction() as db:
            store_preferences(db, subscriber_id, categories, cadence, now)

    def all_preferences(self) -> dict[int, PreferenceRow]:
        rows = self._db.execute(
            "SELECT subscriber_id, categories, cadence, updated_at FROM preferences"
        )
        return {
            row[0]: PreferenceRow(row[0], decode_categories(row[1]), row[2], from_text(row[3]))
            for row in rows
        }

    # the site's categories --------------------------------------------------

    def site_categories(self) -> dict[str, str]:
        """slug → name of every category the last build found, by slug."""
        rows = self._db.execute("SELECT slug, name FROM site_categories ORDER BY slug")
        return dict(rows.fetchall())

    def replace_site_categories(self, categories: dict[str, str]) -> None:
        if categories == self.site_categories():
            return
        with self.transaction() as db:
            db.execute("DELETE FROM site_categories")
            db.executemany(
                "INSERT INTO site_categories (slug, name) VALUES (?, ?)", sorted(categories.items())
            )

    # planning ---------------------------------------------------------------

    def baseline_post_ids(self) -> set[str]:
        """Posts nobody is ever mailed: recorded without an issue (the archive left out of the
        first digest, `--mark-sent`), held by a digest made before readers had preferences,
        which went to everyone, or mailed and then forgotten from what readers were sent
        (`expired_posts`: a post re-dated since must not look new)."""
        rows = self._db.execute(
            "SELECT post_id FROM mailed_posts WHERE digest_id IS NULL "
            "OR digest_id NOT IN (SELECT digest_id FROM issues) "
            "UNION SELECT post_id FROM expired_posts"
        )
        return {row[0] for row in rows}

    def sent_horizon(self) -> float | None:
        """The latest pool floor (posix seconds) below which what readers were sent has been
        forgotten: no later pool may reach back past it, whatever [digest] wait_days says."""
        try:
            row = self._db.execute("SELECT floor FROM sent_horizon").fetchone()
        except sqlite3.OperationalError:  # a read-only store not yet migrated
            return None
        return float(row[0]) if row else None

    def group_readers(
        self,
        pool_times: Sequence[float],
        lookbacks: dict[str, float],
        default: str,
        cadences: Sequence[str],
        now: float,
    ) -> list[ReaderGroup]:
        """Every active reader of `cadences` in the temporary `plan` table, and their groups.

        `pool_times` are the posix times of the posts that may be mailed; `lookbacks`
        says, per offered cadence, how many seconds before subscribing (or before `now`,
        for a reader added later than the clock says it is) a reader's posts may be;
        a cadence that is not offered counts as `default`.
        """
        db = self._db
        for table in ("plan", "pool", "offered"):
            db.execute(f"DROP TABLE IF EXISTS temp.{table}")
        db.execute("CREATE TEMP TABLE pool (published REAL NOT NULL)")
        db.execute("CREATE INDEX temp.pool_by_time ON pool (published)")
        db.executemany("INSERT INTO temp.pool VALUES (?)", [(t,) for t in pool_times])
        db.execute(
            "CREATE TEMP TABLE offered "
            "(cadence TEXT PRIMARY KEY, lookback REAL NOT NULL, planned INTEGER NOT NULL)"
        )
        db.executemany(
            "INSERT INTO temp.offered VALUES (?, ?, ?)",
            [(c, seconds, c in cadences) for c, seconds in sorted(lookbacks.items())],
        )
        db.execute("CREATE TEMP TABLE plan (subscriber_id INTEGER PRIMARY KEY, key TEXT NOT NULL)")
        db.execute(
            _PLAN_READERS,
            {"sep": KEY_SEPARATOR, "default": default, "all": ALL_CATEGORIES, "now": now},
        )
        db.execute("CREATE INDEX temp.plan_by_key ON plan (key)")
        groups = []
        for key, readers in db.execute("SELECT key, count(*) FROM temp.plan GROUP BY key"):
            cadence, categories, sent_set, skipped = key.split(KEY_SEPARATOR)
            chosen = None if categories == ALL_CATEGORIES else decode_categories(categories)
            groups.append(
                ReaderGroup(key, cadence, chosen, int(sent_set), int(skipped), int(readers))
            )
        return groups

    def sent_set_posts(self, ids: Iterable[int]) -> dict[int, list[tuple[str, int]]]:
        """For each sent set: (post id, posix time it arrived) of the posts in it."""
        found: dict[int, list[tuple[str, int]]] = {0: []}
        for set_id in set(ids) - {0}:
            row = self._db.execute("SELECT posts FROM sent_sets WHERE id = ?", (set_id,)).fetchone()
            found[set_id] = [(post_id, int(when)) for post_id, when in json.loads(row[0])]
        return found

    def next_issue_number(self) -> int:
        row = self._db.execute("SELECT coalesce(max(number), 0) + 1 FROM issues").fetchone()
        return int(row[0])

    def create_issues(
        self,
        now: datetime,
        issues: Sequence[NewIssue],
        sent: dict[str, str],
        *,
        baseline: Iterable[str] = (),
        forgotten: Forgotten | None = None,
    ) -> list[int]:
        """One transaction: the issues, their cuts, a pending delivery for each reader in the
        `plan` table whose group gets a cut, each such reader's new sent set (`sent`: group
        key → JSON of the set), the `baseline` posts nobody is to be sent, and what the new
        sets `forgot`. Returns the new digest ids."""
        created = to_text(now)
        digest_ids = []
        with self.transaction() as db:
            if forgotten is not None:
                self._record_forgotten(db, forgotten, created)
            db.executemany(
                "INSERT INTO mailed_posts (post_id, digest_id, recorded_at) VALUES (?, NULL, ?) "
                "ON CONFLICT (post_id) DO UPDATE SET digest_id = NULL",
                [(post_id, created) for post_id in baseline],
            )
            db.execute("DROP TABLE IF EXISTS temp.assign")
            db.execute("CREATE TEMP TABLE assign (key TEXT, digest_id INTEGER, cut INTEGER)")
            for issue in issues:
                digest_id = self._insert_issue(db, created, issue)
                digest_ids.append(digest_id)
                db.executemany(
                    "INSERT INTO temp.assign VALUES (?, ?, ?)",
                    [(key, digest_id, cut) for key, cut in issue.readers.items()],
                )
            db.execute(
                "INSERT INTO deliveries (digest_id, subscriber_id, status, cut, updated_at) "
                "SELECT a.digest_id, p.subscriber_id, 'pending', a.cut, ? "
                "FROM temp.assign a JOIN temp.plan p ON p.key = a.key",
                (created,),
            )
            db.execute("DROP TABLE IF EXISTS temp.next_sent")
            db.execute("CREATE TEMP TABLE next_sent (key TEXT PRIMARY KEY, sent_set INTEGER)")
            for key, posts in sent.items():
                db.execute("INSERT OR IGNORE INTO sent_sets (posts) VALUES (?)", (posts,))
                set_id = db.execute("SELECT id FROM sent_sets WHERE posts = ?", (posts,))
                db.execute("INSERT INTO temp.next_sent VALUES (?, ?)", (key, set_id.fetchone()[0]))
            db.execute(
                "INSERT INTO reader_sent (subscriber_id, sent_set) "
                "SELECT p.subscriber_id, n.sent_set FROM temp.next_sent n "
                "JOIN temp.plan p ON p.key = n.key WHERE true "
                "ON CONFLICT (subscriber_id) DO UPDATE SET sent_set = excluded.sent_set"
            )
            db.execute("DELETE FROM sent_sets WHERE id NOT IN (SELECT sent_set FROM reader_sent)")
        return digest_ids

    @staticmethod
    def _record_forgotten(connection: sqlite3.Connection, forgotten: Forgotten, now: str) -> None:
        connection.execute(
            "INSERT INTO sent_horizon (id, floor) VALUES (1, ?) "
            "ON CONFLICT (id) DO UPDATE SET floor = max(floor, excluded.floor)",
            (forgotten.floor,),
        )
        connection.executemany(
            "INSERT OR IGNORE INTO expired_posts (post_id, expired_at) VALUES (?, ?)",
            [(post_id, now) for post_id in sorted(forgotten.posts)],
        )

    @staticmethod
    def _insert_issue(connection: sqlite3.Connection, created: str, issue: NewIssue) -> int:
        cursor = connection.execute(
            "INSERT INTO digests (created_at, subject, html, text) VALUES (?, ?, ?, ?)",
            (created, issue.subject, issue.html, issue.text),
        )
        digest_id = cursor.lastrowid
        assert digest_id is not None
        connection.execute(
            "INSERT INTO issues (digest_id, number, cadence, posts, archive_html, archive_text) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                digest_id,
                issue.number,
                issue.cadence,
                issue.posts,
                issue.archive_html,
                issue.archive_text,
            ),
        )
        connection.executemany(
            "INSERT INTO issue_cuts (digest_id, cut, positions) VALUES (?, ?, ?)",
            [(digest_id, cut, json.dumps(list(p))) for cut, p in sorted(issue.cuts.items())],
        )
        connection.executemany(
            "INSERT OR IGNORE INTO mailed_posts (post_id, digest_id, position, recorded_at) "
            "VALUES (?, ?, ?, ?)",
            [(post_id, digest_id, i, created) for i, post_id in enumerate(issue.mailed)],
        )
        return digest_id

    # issues -----------------------------------------------------------------

    def issue(self, digest_id: int) -> IssueRow | None:
        row = self._db.execute(_SELECT_ISSUES + " WHERE i.digest_id = ?", (digest_id,)).fetchone()
        return _issue(row) if row else None

    def has_issues(self) -> bool:
        return self._db.execute("SELECT 1 FROM issues LIMIT 1").fetchone() is not None

    def issues(self) -> Iterator[IssueRow]:
        """Every issue, newest first."""
        for row in self._db.execute(_SELECT_ISSUES + " ORDER BY i.number DESC"):
            yield _issue(row)

    def issue_cuts(self, digest_id: int) -> dict[int, tuple[int, ...]]:
        rows = self._db.execute(
            "SELECT cut, positions FROM issue_cuts WHERE digest_id = ?", (digest_id,)
        )
        return {cut: tuple(json.loads(positions)) for cut, positions in rows}

    def posts_sent_to(self, subscriber_id: int) -> list[str]:
        """The ids of every post an issue was sent (or is being sent) to this reader in,
        oldest issue first; failed deliveries count, as the reader may have the message."""
        found: list[str] = []
        rows = self._db.execute(
            "SELECT i.posts, c.positions FROM deliveries d "
            "JOIN issues i ON i.digest_id = d.digest_id "
            "JOIN issue_cuts c ON c.digest_id = d.digest_id AND c.cut = d.cut "
            "WHERE d.subscriber_id = ? ORDER BY d.digest_id",
            (subscriber_id,),
        )
        for posts, positions in rows:
            facts = json.loads(posts)
            found.extend(facts[i]["id"] for i in json.loads(positions))
        return found


_PLAN_READERS = """
INSERT INTO temp.plan (subscriber_id, key)
SELECT id, cadence || :sep || categories || :sep || sent_set || :sep
    || (SELECT count(*) FROM temp.pool WHERE published < start)
FROM (
    SELECT s.id AS id, coalesce(o.cadence, :default) AS cadence,
        coalesce(p.categories, :all) AS categories, coalesce(r.sent_set, 0) AS sent_set,
        min(CAST(strftime('%s', s.created_at) AS REAL), :now) - (
            SELECT lookback FROM temp.offered WHERE cadence = coalesce(o.cadence, :default)
        ) AS start
    FROM subscribers s
    LEFT JOIN preferences p ON p.subscriber_id = s.id
    LEFT JOIN temp.offered o ON o.cadence = p.cadence
    LEFT JOIN reader_sent r ON r.subscriber_id = s.id
    WHERE s.status = 'active'
)
WHERE cadence IN (SELECT cadence FROM temp.offered WHERE planned)
"""

_SELECT_ISSUES = (
    "SELECT i.digest_id, i.number, i.cadence, d.created_at, d.subject, i.posts, "
    "i.archive_html, i.archive_text FROM issues i JOIN digests d ON d.id = i.digest_id"
)


def _issue(row: tuple[object, ...]) -> IssueRow:
    return IssueRow(
        int(str(row[0])),
        int(str(row[1])),
        str(row[2]),
        from_text(str(row[3])),
        str(row[4]),
        str(row[5]),
        str(row[6]),
        str(row[7]),
    )
