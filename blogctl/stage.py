"""Stage settings, read from `.chalice/config.json` exactly as Chalice reads them."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
CONFIG_FILE = PROJECT_DIR / ".chalice" / "config.json"
LOCAL_REGION = "us-east-1"


@dataclass(frozen=True)
class Stage:
    """One stage's name, environment variables and per-function settings."""

    name: str
    env: dict[str, str]
    config: dict[str, Any]

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
        """The AWS region the stage lives in."""
        return self.env.get("BLOG_REGION", LOCAL_REGION)

    def function_setting(self, function: str, name: str, default: Any) -> Any:
        """A per-function setting (lambda_timeout, lambda_memory_size), as Chalice resolves it."""
        for scope in (
            self.config.get("stages", {}).get(self.name, {}).get("lambda_functions", {}).get(function, {}),
            self.config.get("lambda_functions", {}).get(function, {}),
            self.config.get("stages", {}).get(self.name, {}),
            self.config,
        ):
            if name in scope:
                return scope[name]
        return default


def load_stage(name: str, config_file: Path = CONFIG_FILE) -> Stage:
    """The named stage of the Chalice config; ValueError for an unknown stage."""
    config = json.loads(config_file.read_text(encoding="utf-8"))
    stages = config.get("stages", {})
    if name not in stages:
        raise ValueError(f"no stage {name!r} in {config_file} (stages: {', '.join(sorted(stages))})")
    env = {**config.get("environment_variables", {}), **stages[name].get("environment_variables", {})}
    return Stage(name=name, env={k: str(v) for k, v in env.items()}, config=config)
