"""The cost model: what a million page views cost on AWS, from calls measured on moto.

`python -m blogctl cost` publishes sample posts into a sandbox of the prod stage
(blogctl/sandbox.py), requests each kind of page as readers do, and counts with
botocore's hooks the AWS calls each view makes and the bytes DynamoDB returns. Those
counts times the list prices below give the cost per million views, the cost of one
run of the scheduled rebuild, and the cost of a month without readers.

Behind CloudFront, edits are invalidated as they happen (chalicelib/cdn.py), so pages can
carry a long s-maxage and CloudFront answers most views (DEFAULT_CDN_HIT_RATIO); it
compresses what it sends (gzip here, Brotli is smaller still), and each publish costs
invalidation paths, free up to CloudFront's 1,000 a month.
"""
from __future__ import annotations

import argparse
import functools
import gzip
import math
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from blogctl.recorder import Call, CallRecorder
from blogctl.stage import PROJECT_DIR, Stage, load_stage

# us-east-1 list prices, without free tiers, as published in January 2025.
PRICES_AS_OF = "2025-01, us-east-1"
API_GATEWAY_REST_PER_MILLION = 3.50
LAMBDA_PER_MILLION_REQUESTS = 0.20
LAMBDA_PER_GB_SECOND = 0.0000166667
DYNAMODB_PER_MILLION_READ_UNITS = 0.125  # on-demand, since the November 2024 price cut
S3_PER_MILLION_GETS = 0.40
S3_PER_MILLION_LISTS = 5.00
CLOUDFRONT_PER_MILLION_HTTPS = 1.00
CLOUDFRONT_PER_GB = 0.085
INTERNET_PER_GB = 0.09  # data out of AWS when API Gateway answers readers directly
CLOUDFRONT_PER_INVALIDATION_PATH = 0.005
FREE_INVALIDATION_PATHS = 1000  # a month, per account
DEFAULT_CDN_HIT_RATIO = 0.95  # edits are invalidated at once, so pages may stay cached long
PUBLISHES_PER_MONTH = 60  # two edits a day, each its own ingest run

# Lambda gives a function one full vCPU at 1,769 MB and a proportional share below: our
# own code, timed here on a full core, takes that much longer there. Time spent in moto
# is not AWS's latency, so it is replaced by a typical in-region round trip per call.
FULL_VCPU_MB = 1769
AWS_LATENCY_MS = {"dynamodb": 5, "s3": 20}
READ_UNIT_BYTES = 4096  # an eventually consistent read unit covers 4 KB, at half a unit
SAMPLE_POSTS = 30
SAMPLE_TAGS = ("python", "aws", "serverless", "notes", "travel")
WARM_VIEWS = 20
# What readers ask for, as shares of page views (feeds are polled by feed readers).
VIEW_MIX = {"post": 0.65, "home": 0.15, "tag": 0.10, "feed": 0.10}
MINUTES_PER_MONTH = 30 * 24 * 60


@dataclass(frozen=True)
class Measure:
    """What one view (or one rebuild) cost: AWS calls, read units, bytes (as sent, and compressed), our time."""

    calls: Counter[tuple[str, str]]  # per view, on average: a call made in one view of ten counts 0.1
    read_units: float
    response_bytes: int
    own_ms: float
    compressed_bytes: int = 0

    def count(self, *operations: str) -> float:
        """How many calls of these operations, per view."""
        return sum(n for (_, operation), n in self.calls.items() if operation in operations)

    def billed_ms(self, memory_mb: int) -> int:
        """Lambda's billed duration at `memory_mb` (billed by the millisecond)."""
        waiting = sum(AWS_LATENCY_MS[service] * n for (service, _), n in self.calls.items())
        return math.ceil(self.own_ms * max(1.0, FULL_VCPU_MB / memory_mb) + waiting)

    def gb_seconds(self, memory_mb: int) -> float:
        """What Lambda's duration price is charged on."""
        return self.billed_ms(memory_mb) / 1000 * memory_mb / 1024


class Meter:
    """Measures views through the blog's S3 and DynamoDB clients with the shared call recorder."""

    def __init__(self) -> None:
        from chalicelib import aws

        self.recorder = CallRecorder()
        for service in ("s3", "dynamodb"):
            self.recorder.attach(aws.client(service))

    def measure(self, action: Callable[[], Any], times: int = 1) -> Measure:
        """Run `action` `times` times: the calls and read units of one run on average (fractions kept,
        so a call made once in ten runs still costs a tenth), and the median time outside AWS."""
        took, body = [], b""
        calls: Counter[tuple[str, str]] = Counter()
        read_units = 0.0
        for _ in range(times):
            responses: list[Any] = []
            total, own = self.recorder.own_seconds(lambda: responses.append(action()))
            body = getattr(responses[0], "body", b"") or b""
            took.append(own * 1000)
            calls += self.recorder.count()
            read_units += sum(_read_units(call) for call in self.recorder.calls)
        data = body.encode() if isinstance(body, str) else body
        return Measure(Counter({call: n / times for call, n in calls.items()}), read_units / times, len(data),
                       statistics.median(took), len(gzip.compress(data, compresslevel=6)))


def _read_units(call: Call) -> float:
    """DynamoDB read units of one call: items read, rounded up to 4 KB units, at half a unit each
    (eventually consistent). The wire format is a little larger than DynamoDB's own size
    accounting, so this errs on the expensive side."""
    if call.service != "dynamodb" or call.operation not in ("GetItem", "BatchGetItem", "Query", "Scan"):
        return 0.0
    return 0.5 * max(1, math.ceil(call.response_bytes / READ_UNIT_BYTES))


def sample_post(number: int) -> bytes:
    """A post of the seed post's length, one a day from 1 January 2024, with two tags."""
    body = (PROJECT_DIR / "content" / "posts" / "global-prayer-gathering-2013.md").read_text().split("---", 2)[2]
    tags = [SAMPLE_TAGS[number % len(SAMPLE_TAGS)], SAMPLE_TAGS[(number + 2) % len(SAMPLE_TAGS)]]
    day = 1 + number % 28
    return (f"---\ntitle: Sample post {number}\ndate: 2024-{1 + number // 28:02d}-{day:02d}\n"
            f"tags: [{', '.join(tags)}]\n---\n{body}").encode()


def measure_blog(stage: Stage, posts: int = SAMPLE_POSTS,
                 repeats: int = WARM_VIEWS) -> tuple[dict[str, Measure], Measure]:
    """Per kind of view, and for one unchanged rebuild: what it costs, on a sandbox of `stage`."""
    from blogctl.sandbox import sandbox
    from chalicelib import services

    with sandbox(stage) as blog:
        for number in range(posts):
            blog.upload(f"posts/sample-{number}.md", sample_post(number))
        blog.deliver()
        blog.rebuild()
        meter = Meter()
        post = f"/posts/sample-{posts - 1}"
        views: dict[str, Measure] = {}
        for name, path in (("post", post), ("home", "/"), ("tag", f"/tags/{SAMPLE_TAGS[0]}"), ("feed", "/feed.xml")):
            blog.get(path)  # the container has seen it once: this is what most views are
            views[name] = meter.measure(functools.partial(blog.get, path), repeats)
        services.site.cache_clear()  # a new container: nothing rendered yet
        views["post, first view in a new container"] = meter.measure(lambda: blog.get(post))
        rebuild = meter.measure(blog.rebuild)
    return views, rebuild


def dollars(amount: float) -> str:
    """Money to the cent; below a cent, to two significant digits."""
    if amount >= 0.01 or amount == 0:
        return f"${amount:,.2f}"
    return f"${amount:.{1 - math.floor(math.log10(amount))}f}"


def cost_of_views(views: dict[str, Measure], memory_mb: int, hit_ratio: float,
                  count: int = 1_000_000) -> dict[str, float]:
    """Cost lines for `count` page views in the VIEW_MIX, of which CloudFront answers `hit_ratio`."""
    def mix(value: Callable[[Measure], float]) -> float:
        return sum(share * value(views[name]) for name, share in VIEW_MIX.items())

    origin = count * (1 - hit_ratio)
    cdn = hit_ratio > 0
    # CloudFront compresses for readers that accept it (all browsers and feed readers do);
    # API Gateway alone sends pages as they are.
    sent = (lambda m: m.compressed_bytes or m.response_bytes) if cdn else (lambda m: m.response_bytes)
    gigabytes = count * mix(sent) / 1e9
    return {
        "CloudFront requests (HTTPS)": count / 1e6 * CLOUDFRONT_PER_MILLION_HTTPS if cdn else 0.0,
        "data out to readers": gigabytes * (CLOUDFRONT_PER_GB if cdn else INTERNET_PER_GB),
        "API Gateway REST requests": origin / 1e6 * API_GATEWAY_REST_PER_MILLION,
        "Lambda requests": origin / 1e6 * LAMBDA_PER_MILLION_REQUESTS,
        f"Lambda duration ({memory_mb} MB)":
            origin * mix(lambda m: m.gb_seconds(memory_mb)) * LAMBDA_PER_GB_SECOND,
        "DynamoDB on-demand reads": origin * mix(lambda m: m.read_units) / 1e6 * DYNAMODB_PER_MILLION_READ_UNITS,
        "S3 GETs": origin * mix(lambda m: m.count("GetObject", "HeadObject")) / 1e6 * S3_PER_MILLION_GETS,
    }


def cost_of_rebuild(rebuild: Measure, memory_mb: int) -> dict[str, float]:
    """Cost lines of one run of the scheduled rebuild."""
    return {
        "Lambda": LAMBDA_PER_MILLION_REQUESTS / 1e6 + rebuild.gb_seconds(memory_mb) * LAMBDA_PER_GB_SECOND,
        "DynamoDB reads": rebuild.read_units * DYNAMODB_PER_MILLION_READ_UNITS / 1e6,
        "S3 requests": (rebuild.count("GetObject") * S3_PER_MILLION_GETS
                        + rebuild.count("ListObjectsV2") * S3_PER_MILLION_LISTS) / 1e6,
    }


def invalidation_paths_per_publish(tags: int = 2) -> int:
    """Paths one publish invalidates: the post, its two neighbours, its tags and month, the listings."""
    from chalicelib import cdn

    return len(cdn.plan(cdn.paths_for_posts(["post", "older", "newer"], SAMPLE_TAGS[:tags], ["2024-01"])))


def cost_of_invalidations(publishes: int, paths_per_publish: int) -> float:
    """A month of invalidations: free up to CloudFront's 1,000 paths, then per path."""
    return max(0, publishes * paths_per_publish - FREE_INVALIDATION_PATHS) * CLOUDFRONT_PER_INVALIDATION_PATH


def describe_calls(measure: Measure) -> str:
    """'GetItem ×1, GetObject ×0.05', or 'none'."""
    return ", ".join(f"{name} ×{count:.3g}" for (_, name), count in sorted(measure.calls.items()) if count) or "none"


def report(stage: Stage, views: dict[str, Measure], rebuild: Measure, hit_ratio: float) -> str:
    """The cost model as Markdown, for the README."""
    api_mb = stage.function_setting("api_handler", "lambda_memory_size", 128)
    rebuild_mb = stage.function_setting("rebuild_index", "lambda_memory_size", 128)
    latency = " and ".join(f"{ms} ms per {service} call" for service, ms in AWS_LATENCY_MS.items())
    lines = [f"Measured by `python -m blogctl cost` on moto, {SAMPLE_POSTS} posts of the seed post's length. "
             f"Billed Lambda time = our code's time here x {FULL_VCPU_MB}/{api_mb} (the CPU share of a {api_mb} MB "
             f"function) + {latency}. Prices: {PRICES_AS_OF} list prices, free tiers left out.", "",
             "| view | AWS calls | DynamoDB read units | response | gzipped | billed Lambda ms |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {name} | {describe_calls(m)} | {m.read_units:g} | {m.response_bytes / 1000:.1f} kB "
              f"| {m.compressed_bytes / 1000:.1f} kB | {m.billed_ms(api_mb)} |" for name, m in views.items()]
    behind_cdn, direct = cost_of_views(views, api_mb, hit_ratio), cost_of_views(views, api_mb, 0.0)
    idle = sum(cost_of_views(views, api_mb, hit_ratio, count=0).values())
    mix = ", ".join(f"{share:.0%} {name}" for name, share in VIEW_MIX.items())
    lines += ["", f"Per million page views ({mix}):", "",
              f"| | behind CloudFront, {hit_ratio:.0%} cache hits | API Gateway only |", "|---|---|---|"]
    lines += [f"| {item} | {dollars(behind_cdn[item])} | {dollars(direct[item])} |" for item in behind_cdn]
    lines.append(f"| **total** | **{dollars(sum(behind_cdn.values()))}** | **{dollars(sum(direct.values()))}** |")
    paths = invalidation_paths_per_publish()
    monthly = PUBLISHES_PER_MONTH * paths
    lines += ["", f"Instant edits behind CloudFront: a publish invalidates {paths} paths (the post, its neighbours, "
              f"two tags, its month, the listings; one run, one request). CloudFront's free "
              f"{FREE_INVALIDATION_PATHS:,} paths a month cover {FREE_INVALIDATION_PATHS // paths} publishes; at "
              f"{PUBLISHES_PER_MONTH} a month ({monthly:,} paths) they cost "
              f"{dollars(cost_of_invalidations(PUBLISHES_PER_MONTH, paths))} a month "
              f"({dollars(CLOUDFRONT_PER_INVALIDATION_PATH)} a path; a larger run invalidates \"/*\", one path)."]
    minutes = stage.settings.rebuild_minutes
    runs = MINUTES_PER_MONTH // minutes
    run = cost_of_rebuild(rebuild, rebuild_mb)
    gb_seconds = runs * rebuild.gb_seconds(rebuild_mb)
    lines += ["", f"The scheduled rebuild, every {minutes} minutes ({runs:,} runs a month), with nothing to change: "
              f"{describe_calls(rebuild)}, {rebuild.read_units:g} read units, {rebuild.billed_ms(rebuild_mb)} ms at "
              f"{rebuild_mb} MB: {dollars(sum(run.values()))} a run, {dollars(sum(run.values()) * runs)} a month, "
              f"of which Lambda's {dollars(run['Lambda'] * runs)} ({gb_seconds:,.0f} GB-seconds, {runs:,} requests) "
              "is inside its always-free 400,000 GB-seconds and 1 million requests.", "",
              f"Idle, no readers: {dollars(idle)} in request charges. Billed: the schedule's "
              f"{dollars((run['DynamoDB reads'] + run['S3 requests']) * runs)} a month of DynamoDB reads and "
              "S3 requests, and storage."]
    return "\n".join(lines)


def cmd_cost(args: argparse.Namespace) -> int:
    """Measure a sandbox of the prod stage and print the cost model."""
    hit_ratio = DEFAULT_CDN_HIT_RATIO if args.cdn_hit_ratio is None else args.cdn_hit_ratio
    if not 0 <= hit_ratio < 1:
        print("error: --cdn-hit-ratio is a share from 0 to below 1")
        return 2
    stage = load_stage("prod")
    views, rebuild = measure_blog(stage)
    print(report(stage, views, rebuild, hit_ratio))
    return 0
