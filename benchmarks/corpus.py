"""A deterministic benchmark site: N posts like the samples, a config.toml and the templates.

Post i depends only on (seed, i), so a 1,000-post corpus is a prefix of the
10,000-post one, and an added post is simply post N.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=SEOUL)
"""The benchmarks' clock: every run acts as if it were this moment."""

DATELESS_FRACTION = 0.10
MARKDOWN_FRACTION = 0.5
KOREAN_FRACTION = 0.6
DRAFT_FRACTION = 0.01
MIN_BODY_BYTES = 2048
MAX_BODY_BYTES = 6144


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


KOREAN_WORDS = _words(
    "북한 러시아 대통령 푸틴 김정은 국무위원장 정상회담 평양 모스크바 협력 관계 안보 경제 "
    "전략적 동반자 협정 체결 군사 외교 무기 거래 결제 시스템 제재 미국 동맹국 우려 방문 "
    "일정 확정 전문가 전망 가능성 의미 영향력 기술 미사일 우주 기지 회의 중요성 논의 진행 "
    "발표 정부 국회 여당 야당 대변인 기자회견 성명 보도 언론 분석 평가 비판 지지 반대 "
    "시장 금리 물가 환율 수출 수입 무역 투자 기업 산업 반도체 배터리 자동차 조선 에너지 "
    "기후 환경 교육 의료 복지 인구 청년 노동 일자리 서울 부산 인천 대구 광주 대전 지역 "
    "주민 시민 사회 문화 역사 전통 스포츠 선수 경기 대회 우승 기록 오늘 어제 내일 올해 "
    "지난해 이번 다음 최근 당시 이후 이전 현재 향후 관계자 소식통 자료 통계 조사 결과"
)
KOREAN_ENDINGS = (
    "것으로 알려졌다",
    "것으로 예상된다",
    "고 밝혔다",
    "라고 강조했다",
    "는 분석이 나온다",
    "에 주목하고 있다",
    "을 논의했다",
    "가 이어지고 있다",
    "할 전망이다",
    "로 평가된다",
)
ENGLISH_WORDS = _words(
    "the summit talks leaders security cooperation economy trade sanctions alliance region "
    "government ministry official statement spokesperson analysts expect market rates "
    "inflation exports imports investment industry semiconductor battery shipbuilding energy "
    "climate policy education health welfare population youth labour jobs city province "
    "residents community culture history tradition sport record today yesterday tomorrow "
    "this year last week next month recently meanwhile however according report survey data "
    "results agreement signed visit schedule confirmed experts warned possible impact "
    "technology missile space launch meeting importance discussion announced parliament "
    "opposition ruling party press conference coverage review criticism support against "
    "north south east west capital border talks envoy delegation treaty framework"
)
CATEGORIES = (
    "News",
    "Politics",
    "Economy",
    "Opinion",
    "Tech",
    "World",
    "Culture",
    "Sports",
    "속보",
    "정치",
    "경제",
    "국제",
    "사회",
    "문화",
    "북한",
    "오피니언",
)
TAGS = ("summit", "trade", "security", "외교", "안보", "시장", "analysis", "interview", "속보")
AUTHORS = ("뉴스다오 편집부", "김민준 기자", "이서연 기자", "Alex Kim", "Jordan Lee")
IMAGE_URLS = (
    "/assets/img/newsdao_breakingnews.jpg",
    "images/photo-{n}.png",
    "../media/chart-{n}.webp",
    "/uploads/2024/06/summit-{n}.jpg",
    "https://cdn.example.org/img/{n}.jpg",
    "https://blogger.googleusercontent.com/img/b/R29vZ2xl/AVvXsE{n}/s1600/blogspot.png",
)


@dataclass(frozen=True)
class PostFile:
    """One generated post: where it goes under content/ and its bytes."""

    name: str
    data: bytes


def _pick_image(rng: random.Random) -> str:
    return rng.choice(IMAGE_URLS).format(n=rng.randrange(1, 10_000))


class _Writer:
    """Sentences, paragraphs and blocks in one language, from one random stream."""

    def __init__(self, rng: random.Random, korean: bool) -> None:
        self.rng = rng
        self.korean = korean

    def sentence(self) -> str:
        rng = self.rng
        if self.korean:
            words = rng.choices(KOREAN_WORDS, k=rng.randint(5, 11))
            if rng.random() < 0.15:  # news copy mixes in English names and hanja
                words.insert(rng.randrange(len(words)), rng.choice(("NATO", "UN", "北", "美")))
            return " ".join(words) + rng.choice(KOREAN_ENDINGS) + "."
        words = rng.choices(ENGLISH_WORDS, k=rng.randint(8, 18))
        text = " ".join(words)
        return text[0].upper() + text[1:] + rng.choice((".", ".", ".", "?", "!"))

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(2, 5)))

    def heading(self) -> str:
        count = self.rng.randint(2, 5)
        words = self.rng.choices(KOREAN_WORDS if self.korean else ENGLISH_WORDS, k=count)
        return " ".join(words).capitalize()

    def title(self, index: int) -> str:
        if self.korean:
            return " ".join(self.rng.choices(KOREAN_WORDS, k=self.rng.randint(4, 8)))
        # English titles become the slug, so they carry the number to stay unique.
        return f"{self.heading()}: {self.heading().lower()} ({index})"


def _html_block(w: _Writer, rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.50:
        return f"<p>{w.paragraph()}</p>"
    if kind < 0.62:
        return f'<h2 data-ke-size="size26">{w.heading()}</h2>'
    if kind < 0.72:
        return f'<p><img src="{_pick_image(rng)}" alt="{w.heading()}" /></p>'
    if kind < 0.82:
        items = "".join(f"<li>{w.sentence()}</li>" for _ in range(rng.randint(2, 4)))
        return f"<ul>{items}</ul>"
    if kind < 0.88:
        rows = "".join(
            f'<tr><td style="text-align: center;">{rng.randint(1, 28)}일</td><td>{w.heading()}'
            "</td></tr>"
            for _ in range(rng.randint(2, 4))
        )
        head = "<thead><tr><th>날짜</th><th>내용</th></tr></thead>"
        return f"<table>{head}<tbody>{rows}</tbody></table>"
    if kind < 0.94:
        link = rng.choice(("/2024/06/19/summit/", "related.html", "https://example.com/a?b=1"))
        return f'<p>{w.sentence()} <a href="{link}">{w.heading()}</a> {w.sentence()}</p>'
    return f"<blockquote><p>{w.sentence()}</p></blockquote>"


def _markdown_block(w: _Writer, rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.50:
        return w.paragraph()
    if kind < 0.62:
        return f"## {w.heading()}"
    if kind < 0.72:
        return f"![{w.heading()}]({_pick_image(rng)})"
    if kind < 0.82:
        return "\n".join(f"- {w.sentence()}" for _ in range(rng.randint(2, 4)))
    if kind < 0.88:
        rows = "\n".join(
            f"| {rng.randint(1, 28)}일 | {w.heading()} |" for _ in range(rng.randint(2, 4))
        )
        return f"| 날짜 | 내용 |\n| --- | --- |\n{rows}"
    if kind < 0.94:
        link = rng.choice(("/2024/06/19/summit/", "related.html", "https://example.com/a?b=1"))
        return f"{w.sentence()} *{w.heading()}* [{w.heading()}]({link}) **{w.sentence()}**"
    return f"> {w.sentence()}"


def _body(w: _Writer, rng: random.Random, markdown: bool) -> str:
    target = rng.randint(MIN_BODY_BYTES, MAX_BODY_BYTES)
    block = _markdown_block if markdown else _html_block
    blocks: list[str] = []
    size = 0
    while True:
        text = block(w, rng)
        if blocks and size + len(text.encode("utf-8")) + 2 > target:
            break
        blocks.append(text)
        size += len(text.encode("utf-8")) + 2
    return "\n\n".join(blocks) + "\n"


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _folded(text: str) -> str:
    return ">\n  " + text + "\n"


def make_post(index: int, seed: int, now: datetime = NOW) -> PostFile:
    """Post `index` of the corpus for `seed`, the same bytes on every machine."""
    rng = random.Random(f"publisher-bench:{seed}:{index}")
    korean = rng.random() < KOREAN_FRACTION
    markdown = rng.random() < MARKDOWN_FRACTION
    dateless = rng.random() < DATELESS_FRACTION
    w = _Writer(rng, korean)
    title = w.title(index)
    lines = ["---", f"title: {_quoted(title)}"]
    published = now - timedelta(seconds=rng.randrange(1, 10 * 365 * 86400))
    name_date = ""
    if not dateless:
        style = rng.random()
        if style < 0.5:
            lines.append(f"date: {published.strftime('%Y-%m-%d %H:%M:%S %z')}")
        elif style < 0.8:
            lines.append(f"date: {published.isoformat()}")
        else:
            name_date = published.strftime("%Y-%m-%d-")  # Jekyll: the date is in the file name
        if rng.random() < 0.2:
            updated = min(now, published + timedelta(days=rng.randint(1, 30)))
            lines.append(f"last_modified_at: {updated.isoformat()}")
    categories = rng.sample(CATEGORIES, rng.randint(1, 3))
    lines.append("categories:")
    lines.extend(f"  - {_quoted(c)}" for c in categories)
    if rng.random() < 0.5:
        lines.append("tags: [" + ", ".join(_quoted(t) for t in rng.sample(TAGS, 2)) + "]")
    if rng.random() < 0.7:
        lines.append("excerpt: " + _folded(w.paragraph()).rstrip("\n"))
    if rng.random() < 0.5:
        lines.append("feature_text: " + _folded(w.paragraph()).rstrip("\n"))
    if rng.random() < 0.8:
        lines.append(f"image: '{_pick_image(rng)}'")
    if rng.random() < 0.3:
        lines.append(f"author: {_quoted(rng.choice(AUTHORS))}")
    if not korean:
        lines.append("lang: en")
    if rng.random() < DRAFT_FRACTION:
        lines.append("draft: true")
    lines.append("---")
    front = "\n".join(lines) + "\n\n"
    body = _body(w, rng, markdown)
    suffix = ".md" if markdown else rng.choice((".html", ".txt"))
    stem = f"{name_date}{index:06d}_{rng.getrandbits(64):016x}"
    folder = "notes" if dateless else f"{published.year:04d}"
    return PostFile(f"{folder}/{stem}{suffix}", (front + body).encode("utf-8"))


@dataclass(frozen=True)
class Mail:
    """The [mail] and [smtp] settings a benchmark varies."""

    transport: str = "outbox"
    host: str = "localhost"
    port: int = 587
    security: str = "starttls"
    connections: int = 2


def config_text(mail: Mail = Mail()) -> str:
    """A config.toml like the sample site's, with the mail settings a benchmark needs."""
    return f"""\
[site]
title = "뉴스다오 속보"
description = "북러 관계와 한반도 정세를 다루는 뉴스 모음"
base_url = "https://news.example.org"
language = "ko"
timezone = "Asia/Seoul"
author = "뉴스다오 편집부"
author_email = "editor@news.example.org"
id_authority = "news.example.org,2024"

[feeds]
limit = 20
full_content = true
formats = ["atom", "rss", "json"]
categories = true

[paths]
content = "content"
output = "public"
state = "state"
templates = "templates"
outbox = "outbox"

[mail]
transport = "{mail.transport}"
from = "뉴스다오 속보 <digest@news.example.org>"
reply_to = "editor@news.example.org"
contact = "뉴스다오 편집부 · 서울특별시 중구 세종대로 110 · editor@news.example.org"

[smtp]
host = "{mail.host}"
port = {mail.port}
security = "{mail.security}"
username = ""
timeout = 30
connections = {mail.connections}
rate = 0

[digest]
subject = "{{site}}: {{title}}"
max_posts = 10
first_digest_days = 7
unsubscribe_url = "https://news.example.org/unsubscribe?token={{token}}"
secret_env = "PUBLISHER_BENCH_SECRET"
"""


@dataclass(frozen=True)
class Site:
    folder: Path
    posts: int
    seed: int
    content_bytes: int

    @property
    def config(self) -> Path:
        return self.folder / "config.toml"

    @property
    def content(self) -> Path:
        return self.folder / "content"


def write_post(content: Path, post: PostFile) -> Path:
    path = content / post.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(post.data)
    return path


def make_site(
    folder: Path, posts: int, *, seed: int = 1, now: datetime = NOW, mail: Mail = Mail()
) -> Site:
    """Write config.toml, templates/ (copied from the repository) and `posts` posts."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(config_text(mail), encoding="utf-8")
    shutil.copytree(ROOT / "templates", folder / "templates", dirs_exist_ok=True)
    content = folder / "content"
    total = 0
    for index in range(posts):
        post = make_post(index, seed, now)
        write_post(content, post)
        total += len(post.data)
    return Site(folder, posts, seed, total)


def edit_post(path: Path, stamp: str) -> None:
    """Change a post's body the way an author would: one more paragraph at the end."""
    data = path.read_bytes()
    if path.suffix == ".md":
        extra = f"\nEdited: {stamp}. 수정했습니다.\n"
    else:
        extra = f"\n<p>Edited: {stamp}. 수정했습니다.</p>\n"
    path.write_bytes(data + extra.encode("utf-8"))
