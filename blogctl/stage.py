"""Stage settings, read from `.chalice/config.json` by Chalice's own `chalice.config.Config`.

Chalice decides what a function gets (per-function settings in the stage, then the stage,
then per-function settings at the top, then the top level): reading through its Config
means `blogctl` can never disagree with what `chalice deploy` and `chalice package` do.

Besides Chalice's keys, a stage may carry the operator's settings (Chalice ignores keys it
does not know; they are looked up with Chalice's precedence, stage before top level):

    blog_production       true: preflight requires BLOG_SITE_URL (canonical links, feeds)
    blog_cdn              true: CloudFront in front (`make deploy`, `make package`)
    blog_certificate_arn  ACM certificate (us-east-1) for BLOG_SITE_URL's host on CloudFront
    blog_alarm_email      where the alarms' SNS topic sends mail (optional)
    blog_log_retention_days  how long the functions' logs are kept (default 30)

(Not Chalice's own `log_retention_in_days`: Chalice 1.34 names the API function's log group
after the wrong resource, so `chalice deploy` makes a stray group and `chalice package` a
template that does not deploy. blogctl/template.py and blogctl/operations.py set all three.)

The stage's region is BLOG_REGION, the one source of truth for deploy, setup and every
`blogctl --stage` command.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chalice.config import Config

from chalicelib.config import Settings

PROJECT_DIR = Path(__file__).resolve().parent.parent
CONFIG_FILE = PROJECT_DIR / ".chalice" / "config.json"
LOCAL_REGION = "us-east-1"
API_FUNCTION = "api_handler"  # Chalice's name for the function behind the REST API
DEFAULT_LOG_RETENTION_DAYS = 30


class BlogConfig(Config):
    """Chalice's Config, plus the operator's settings looked up with Chalice's precedence."""

    def _stage_setting(self, name: str, default: Any) -> Any:
        value = self._chain_lookup(name, varies_per_chalice_stage=True)
        return default if value is None else value

    @property
    def production(self) -> bool:
        """Is the stage the public blog (a site URL is then required)?"""
        return bool(self._stage_setting("blog_production", False))

    @property
    def cdn(self) -> bool:
        """Does CloudFront sit in front of the API?"""
        return bool(self._stage_setting("blog_cdn", False))

    @property
    def certificate_arn(self) -> str:
        """The ACM certificate for the custom domain ('' for none)."""
        return str(self._stage_setting("blog_certificate_arn", ""))

    @property
    def log_retention_days(self) -> int:
        """Days the functions' logs are kept."""
        return int(self._stage_setting("blog_log_retention_days", DEFAULT_LOG_RETENTION_DAYS))

    @property
    def alarm_email(self) -> str:
        """Who gets the alarms by e-mail ('' for nobody)."""
        return str(self._stage_setting("blog_alarm_email", ""))


@dataclass(frozen=True)
class Stage:
    """One stage of the Chalice config: its names, region, per-function and operator settings."""

    name: str
    chalice: BlogConfig
    config_file: Path = CONFIG_FILE

    @property
    def config(self) -> dict[str, Any]:
        """The config file as JSON (what Chalice read)."""
        return self.chalice.config_from_disk

    @property
    def env(self) -> dict[str, str]:
        """The API function's environment variables, as Chalice sets them."""
        return self.environment(API_FUNCTION)

    def environment(self, function: str) -> dict[str, str]:
        """A function's environment variables, as Chalice sets them."""
        return {k: str(v) for k, v in self.scoped(function).environment_variables.items()}

    def scoped(self, function: str) -> BlogConfig:
        """Chalice's view of the stage for one function."""
        return self.chalice.scope(self.name, function)  # type: ignore[return-value]

    @property
    def settings(self) -> Settings:
        """What the deployed code reads from that environment (defaults included)."""
        return Settings.from_env(self.env)

    @property
    def app_name(self) -> str:
        """The Chalice app's name (functions and roles are named after it)."""
        return self.chalice.app_name

    @property
    def functions(self) -> list[str]:
        """The stage's Lambda functions, as config.json names them."""
        return sorted(self.config.get("lambda_functions", {}))

    @property
    def bucket(self) -> str:
        """The content bucket."""
        return self.env["BLOG_BUCKET"]

    @property
    def table(self) -> str:
        """The index table."""
        return self.env["BLOG_TABLE"]

    @property
    def queue(self) -> str:
        """The upload queue (its dead-letter queue is this name plus '-dlq')."""
        return self.env["BLOG_QUEUE"]

    @property
    def region(self) -> str:
        """The AWS region the stage lives in: BLOG_REGION, the one source of truth."""
        return self.env.get("BLOG_REGION") or LOCAL_REGION

    @property
    def site_url(self) -> str:
        """The public URL ('' when unset)."""
        return self.settings.site_url

    @property
    def domain(self) -> str:
        """The custom domain CloudFront answers for: BLOG_SITE_URL's host, unless it is AWS's own."""
        host = urlsplit(self.site_url).hostname or ""
        return "" if host.endswith((".cloudfront.net", ".amazonaws.com")) else host

    @property
    def log_retention_days(self) -> int:
        """How long the functions' logs are kept (`blog_log_retention_days`)."""
        return self.chalice.log_retention_days

    def function_name(self, function: str) -> str:
        """What Chalice names a function on AWS: `<app>-<stage>` for the API, else `<app>-<stage>-<name>`."""
        prefix = f"{self.app_name}-{self.name}"
        return prefix if function == API_FUNCTION else f"{prefix}-{function}"

    def role_name(self, function: str) -> str:
        """What Chalice names a function's role (with a policy file of its own): `<app>-<stage>-<name>`."""
        return f"{self.app_name}-{self.name}-{function}"

    def function_setting(self, function: str, name: str, default: Any = None) -> Any:
        """A per-function setting (lambda_timeout, lambda_memory_size, …), as Chalice resolves it."""
        value = getattr(self.scoped(function), name)
        return default if value is None else value


def load_stage(name: str, config_file: Path = CONFIG_FILE) -> Stage:
    """The named stage of the Chalice config; ValueError for an unknown stage."""
    config = json.loads(config_file.read_text(encoding="utf-8"))
    stages = config.get("stages", {})
    if name not in stages:
        raise ValueError(f"no stage {name!r} in {config_file} (stages: {', '.join(sorted(stages))})")
    chalice = BlogConfig(chalice_stage=name, config_from_disk=config,
                         default_params={"project_dir": str(config_file.parent.parent)})
    return Stage(name=name, chalice=chalice, config_file=config_file)
