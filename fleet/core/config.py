"""One settings object for the whole service, read from FLEET_* environment variables."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fleet.core.errors import BadValue, Reason

# The development default of fleet's first versions, published with its source: a token signed
# with it would be anyone's to forge, so it is refused everywhere.
PUBLIC_SECRET = "fleet-development-secret-change-me"
MIN_SECRET_BYTES = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLEET_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///fleet.db"
    # Signs tokens and cookies. Unset: a random key kept in the database (fleet.auth.keys);
    # production requires one of at least MIN_SECRET_BYTES bytes.
    secret_key: str | None = None
    access_token_minutes: int = 8 * 60
    api_token_days: int = 365

    # Geocoding of merchant addresses that arrive without coordinates.
    geocoder: Literal["none", "nominatim", "baidu"] = "none"
    geocoder_url: str | None = None
    geocoder_api_key: str | None = None
    geocoder_min_delay_seconds: float = 1.0
    geocoder_timeout_seconds: float = 5.0

    default_language: Literal["zh", "en"] = "zh"

    # Utilisation (DESIGN.md): which transactions count, and the status windows in days.
    financial_types: tuple[str, ...] = ("transfer", "card_payment", "bill_payment")
    active_days: int = 30
    dormant_days: int = 90
    never_used_after_days: int = 30
    declining_ratio: float = 0.5
    declining_previous_days: int = 90
    # Peer group of a terminal: its market's trade where it sits in a market, else its
    # merchant's category ("market_or_category"); or always the merchant's category.
    peer_group: Literal["market_or_category", "category"] = "market_or_category"
    # Timestamps without an offset in a feed are in this zone.
    feed_timezone: str = "Asia/Shanghai"
    # A feed (file or pull) whose refused share of lines passes this fails its run, and
    # `fleet ingest` exits non-zero; the accepted lines are kept.
    feed_max_rejected_share: float = Field(default=0.05, ge=0.0, le=1.0)

    # Maps (fleet.maps). The base map by preset name (maps/presets.toml); "custom" is the
    # bank's own tile server below, the default when its URL is set.
    map_base: str | None = None
    map_tiles_url: str | None = None
    map_tiles_datum: Literal["wgs84", "gcj02"] = "wgs84"
    map_tiles_attribution: str = ""
    tianditu_key: str | None = None
    # Presets file and the npm-installed Leaflet assets; default: the repository's maps/.
    map_presets: Path | None = None
    map_assets_dir: Path | None = None
    # Where `fleet map` writes files, and the server its popups link to.
    map_dir: Path = Path("maps")
    public_url: str = "http://127.0.0.1:8000"

    # Revisit lists and field routes (fleet.visits). Clock times are local (feed_timezone).
    revisit_cooldown_days: int = 14  # a unit visited this recently waits, unless a follow-up is due
    revisit_followup_lead_days: int = 2  # a follow-up joins the list this many days before its date
    revisit_service_minutes: int = 20
    revisit_shift: str = "08:30-17:30"
    # Lunch lasts as long as this span; it starts at its start, or when the visit in progress
    # then ends, but no later than revisit_lunch_latest_start.
    revisit_lunch: str = "12:00-13:00"
    revisit_lunch_latest_start: str = "12:30"
    revisit_circuity: float = 1.3  # road distance / geodesic distance
    revisit_urban_kmh: float = 25.0
    revisit_rural_kmh: float = 40.0
    revisit_urban_radius_km: float = 5.0  # around a city or county branch
    revisit_prize_m_per_point: int = 200  # metres of driving one priority point is worth
    revisit_solver_seconds: float = 4.0
    # The route solver is offered only the best candidates: this many times the most visits
    # the day's staff could make (shift less lunch over service time, 24 a person; routes
    # take ~19), never fewer than revisit_cap_min (the benchmark's size, solved well within
    # the budget); the rest are listed over_capacity. 0: every candidate (the travel matrix
    # grows with their square). Why 3: with 5,000 candidates and 8 staff (bench_routes), the
    # routes' net value (prize less metres) was 18% lower at 1x, 3% lower at 2x, and within 1%
    # of 8x and of a 20 s solve at 3x; beyond, the matrix and the search only grow.
    revisit_cap_factor: float = 3.0
    revisit_cap_min: int = 300
    revisit_activation_days: int = 30
    # An OSRM-compatible routing server for road travel times, e.g. http://osrm.bank.local:5000.
    osrm_url: str | None = None
    osrm_timeout_seconds: float = 10.0
    osrm_max_table: int = 100  # coordinates per /table request (the server's max-table-size)

    # Recovery and redeployment (fleet.recovery). The rule numbers are defaults: a branch may
    # override them for its subtree (table recovery_rule_override).
    recovery_dormant_days: int = 90  # dormant this long, and ...
    recovery_revisit_wait_days: int = 30  # ... revisited at least this long ago, to no effect
    recovery_never_used_days: int = 60  # never used this long after deployment
    recovery_overdue_days: int = 7  # a request pending longer is flagged overdue
    recovery_quiet_days: int = 90  # after a rejection, the rules leave the unit alone this long
    redeploy_max_km: float = 50.0  # markets farther than this from the unit's branch are skipped

    # Scheduled jobs (fleet.jobs, `fleet scheduler`). Cron lines, local time (feed_timezone);
    # an empty line switches a job off. Each feed source is pulled on its own schedule.
    job_score_schedule: str = "30 3 * * *"  # after the nightly pulls (02:00 by default)
    job_revisits_schedule: str = "0 5 * * *"  # next day's lists, after scoring
    job_sweep_schedule: str = "0 4 * * *"
    job_overdue_schedule: str = "0 8 * * *"
    job_tickets_schedule: str = "45 3 * * *"  # after scoring: suspected faults, verifications
    job_cleanup_schedule: str = "30 4 * * sun"
    job_lease_seconds: int = 3600  # a crashed scheduler's job is taken over after this
    job_attempts: int = 3  # a failing job is tried this often, waiting longer each time
    job_backoff_seconds: float = 60.0  # first wait; doubled for each later attempt
    # Clean-up keeps these many days; 0 keeps forever.
    cleanup_rejected_rows_days: int = 365  # rejected feed lines of finished ingest runs
    cleanup_job_runs_days: int = 180

    # Observability: one JSON line per log record; /metrics needs an admin's bearer token or
    # this token (for a Prometheus scraper), never nothing.
    log_json: bool = True
    log_level: str = "INFO"
    metrics_token: str | None = None
    # Where a command's unexpected failure writes its traceback (the user sees one line that
    # names this file); default $XDG_STATE_HOME/fleet/cli.log, else ~/.local/state/fleet/cli.log.
    cli_log_file: Path | None = None

    # Sign-in: this many failures within the window lock the account for lock minutes.
    login_max_failures: int = 5
    login_failure_window_minutes: int = 15
    login_lock_minutes: int = 15

    # Web pages: the session cookie is sent only over HTTPS when set (on by default in
    # production, where the bank's reverse proxy terminates TLS).
    cookie_secure: bool | None = None
    # The API docs (/docs, /openapi.json) only for signed-in users (a session cookie or a
    # bearer token) when set; on by default in production.
    docs_sign_in: bool | None = None

    # Sign-in rate limit per client address (on top of the per-account lock): at most this many
    # attempts within the window, then 429 with Retry-After. 0 switches it off. Counted in the
    # database so that all app workers share it; behind a reverse proxy run uvicorn with
    # --proxy-headers (and --forwarded-allow-ips) so that the client address is the real one.
    login_rate_per_ip: int = 20
    login_rate_window_seconds: int = 60
    # The merchant's QR page (no account): page views and reports per client address, and
    # fault reports per unit, within the window; past them 429 with Retry-After. 0: off.
    qr_rate_per_ip: int = 30
    qr_reports_per_unit: int = 3
    qr_rate_window_seconds: int = 3600

    # Proof of visit: an outcome recorded with the phone farther than this from the merchant
    # is flagged for the branch to look at.
    visit_proof_max_m: int = 500

    # After-sales (fleet.aftersales). Business hours are local (feed_timezone) on China's
    # working calendar (chinese-calendar: public holidays and 调休 working weekends), with days
    # an admin adds by hand (YYYY-MM-DD) taking precedence.
    service_hours: str = "08:30-17:30"
    service_extra_holidays: tuple[date, ...] = ()
    service_extra_workdays: tuple[date, ...] = ()
    service_town_radius_km: float = 5.0  # town: this close to a city or county branch
    # SLA policies: "area:priority" -> business hours to respond, be on site, restore.
    service_sla: dict[str, tuple[float, float, float]] = {
        "town:high": (1.0, 2.0, 4.0),
        "town:normal": (2.0, 3.0, 4.0),
        "town:low": (4.0, 8.0, 16.0),
        "rural:high": (1.0, 8.0, 16.0),
        "rural:normal": (2.0, 16.0, 24.0),
        "rural:low": (4.0, 24.0, 40.0),
    }
    service_repeat_days: int = 30  # a new fault within this many days is a repeat
    service_callback_days: int = 3  # restored, no transaction this long: call the merchant back
    service_repair_lead_days: float = 7.0  # vendor turnaround when a branch has no history yet
    service_spares_window_days: int = 180  # failure rate for the suggested spare count
    # The service day (aftersales.dayplan): the shift and lunch of revisit_*, a visit of
    # service_visit_minutes, a swap planned for these symptoms (a spare taken along).
    service_visit_minutes: int = 45
    service_swap_symptoms: tuple[str, ...] = (
        "card_reader",
        "printer",
        "keypad",
        "display",
        "power",
    )
    service_solver_seconds: float = 3.0
    # Suspected faults from the feed: a unit that transacted on at least `suspect_daily_share`
    # of the `suspect_baseline_days` before and is silent for `suspect_silent_days`; or whose
    # failed share of the last `suspect_recent_days` (at least `suspect_min_attempts`
    # attempts) is `suspect_failed_jump` above its baseline share.
    suspect_baseline_days: int = 30
    suspect_daily_share: float = 0.8
    suspect_silent_days: int = 3
    suspect_recent_days: int = 3
    suspect_min_attempts: int = 5
    suspect_failed_jump: float = 0.3

    # Bounded work for every upload, checked while the file is read: over a limit the run
    # stops with the reason, keeps nothing and is marked failed. Feeds (`fleet ingest`, the
    # upload API): bytes once unpacked (gzip), the longest line, lines in all, rejected lines.
    feed_max_bytes: int = 8 << 30
    feed_max_line_bytes: int = 64 << 10
    feed_max_lines: int = 50_000_000
    feed_max_rejected: int = 100_000
    # Inventory import files (CSV, or XLSX: a zip, whose members are checked before they are
    # read): bytes once unpacked, rows; and how many bad rows an error answer lists.
    import_max_bytes: int = 256 << 20
    import_max_rows: int = 200_000
    import_errors_listed: int = 100
    # Rows one page import (/ops/imports) may hold: its preview and its confirm each run in one
    # request and, on SQLite, hold the write lock throughout (others wait 10 s, then get 503).
    # Larger files are imported on the server (`fleet import KIND FILE`) or split. None: by
    # the database (page_import_rows).
    page_import_max_rows: int | None = None

    # Heavy read-only answers (KPI reports, market ranking, coverage maps) are kept this many
    # seconds, or until a scoring or ingest run (fleet/core/memo.py); 0 switches it off.
    memo_seconds: float = 60.0

    # 收益率 (fleet/pay/yields.py): a unit's cost is its price spread evenly over its life,
    # plus the line fee of each month (fen). Example values; the bank sets its own.
    pay_unit_price_fen: int = 120_000
    pay_unit_life_months: int = 36
    pay_line_fee_fen_per_month: int = 1_000

    @field_validator("database_url")
    @classmethod
    def _a_database_fleet_can_use(cls, value: str) -> str:
        # Checked here, so a mistyped URL is one line from `fleet` (and the service refuses to
        # start saying so), not a traceback from the first query: SQLite or PostgreSQL through
        # a driver fleet has (psycopg), written as SQLAlchemy reads it.
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            url = make_url(value)
            url.get_dialect().import_dbapi()
            usable = url.get_backend_name() in ("sqlite", "postgresql")
        except (ArgumentError, NoSuchModuleError, ValueError, ImportError):
            usable = False
        if not usable:
            raise BadValue(
                Reason(
                    "FLEET_DATABASE_URL is not a database URL fleet can use: write "
                    "sqlite:////path/to/fleet.db or postgresql+psycopg://user@host:5432/name"
                )
            )
        return value

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> Settings:
        # BadValue: the reason kept as a msgid, so `fleet` says it in the reader's language.
        if self.secret_key == PUBLIC_SECRET:
            raise BadValue(
                Reason(
                    "FLEET_SECRET_KEY is the published development value: unset it (a random "
                    "key is then kept in the database) or set a key of your own"
                )
            )
        if self.environment == "production":
            if not self.secret_key:
                raise BadValue(Reason("FLEET_SECRET_KEY must be set in production"))
            if len(self.secret_key.encode()) < MIN_SECRET_BYTES:
                raise BadValue(
                    Reason(
                        "FLEET_SECRET_KEY must be at least {least} bytes in production "
                        "(e.g. openssl rand -hex 32)",
                        least=MIN_SECRET_BYTES,
                    )
                )
        return self

    @property
    def page_import_rows(self) -> int:
        """FLEET_PAGE_IMPORT_MAX_ROWS, else 500 rows on SQLite (about 1.5-4.5 s of its write
        lock at the measured rates) and 5,000 on PostgreSQL, where others' work goes on during
        an import (rows are locked, not the database) and the bound is the request's time."""
        if self.page_import_max_rows is not None:
            return self.page_import_max_rows
        return 5_000 if self.database_url.startswith("postgresql") else 500

    @property
    def docs_need_sign_in(self) -> bool:
        if self.docs_sign_in is not None:
            return self.docs_sign_in
        return self.environment == "production"

    @property
    def secure_cookies(self) -> bool:
        return (
            self.cookie_secure
            if self.cookie_secure is not None
            else (self.environment == "production")
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
