"""The local half of `appliance offboard`: the Aid's secrets, the crypto-shred, the rest of $APPLIANCE_HOME,
the checks on what is left, and the receipt file. Each function is idempotent and answers an `Outcome`.

Only what the appliance itself writes is removed (by name); anything else found under $APPLIANCE_HOME is
reported by `home_is_empty`, never deleted, so a mistyped $APPLIANCE_HOME cannot take other files with it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from appliance.audit.receipt import Outcome
from appliance.config import CONFIG_FILE_NAME, Settings
from appliance.errors import ApplianceError
from appliance.graph.bot_certificate import BOT_CERTIFICATE
from appliance.store.key_provider import KeyProvider
from appliance.store.shred import SIDE_FILES, shred_store
from appliance.store.tenant_store import TenantStore, database_path
from appliance.store.token_cache import TOKEN_CACHE_SECRET
from appliance.wiring.dev import BOT_SECRET

CREDENTIALS = {TOKEN_CACHE_SECRET: "the Aid's msal token cache", BOT_SECRET: "the bot's client secret",
               BOT_CERTIFICATE: "the bot's certificate and private key"}


class ReceiptPathError(ApplianceError):
    """The receipt could not be (or must not be) written where asked."""

    hint = "Pass --receipt PATH: a new file outside $APPLIANCE_HOME, in a directory you can write. Nothing was changed."


def store_files(settings: Settings) -> list[Path]:
    """The database and its side files that exist now."""
    database = database_path(settings)
    return [p for p in (Path(f"{database}{suffix}") for suffix in SIDE_FILES) if p.exists()]


def delete_credentials(store: TenantStore | None) -> Outcome:
    """Delete the Aid's token cache and the bot's secret and certificate from the store (before the store
    itself goes)."""
    if store is None:
        return Outcome("already_done", "no store is left, so neither credential exists")
    deleted = [label for name, label in CREDENTIALS.items() if store.delete_secret(name)]
    if not deleted:
        return Outcome("already_done", "none of the token cache, the bot secret and certificate is in the store")
    return Outcome("done", "deleted " + " and ".join(deleted) + " from the store")


def shred(settings: Settings, keys: KeyProvider) -> Outcome:
    """Crypto-shred: the key first, then every database file overwritten with random bytes and removed."""
    present = store_files(settings) + keys.stored_files()
    outside = (f"Delete the store key from your secret manager (the value behind the {keys.describe()}) to complete "
               "the crypto-shred; until then a copy of the old disk could still be decrypted.")
    if not present:
        if not keys.destroys_key:
            return Outcome("needs_admin", "the store files are gone; its key lives outside the appliance", outside)
        return Outcome("already_done", "neither the store nor its key file exists")
    detail = "; ".join(shred_store(database_path(settings), keys))
    if not keys.destroys_key:
        return Outcome("needs_admin", f"{detail}; the key itself lives outside the appliance", outside)
    return Outcome("done", detail)


def appliance_paths(settings: Settings, *, remove_models: bool) -> list[Path]:
    """What the appliance writes under $APPLIANCE_HOME besides the store, in removal order."""
    home = settings.home
    paths = [home / "logs", settings.cache_dir]
    if settings.graph.dev:
        paths.append(home / "devtenant")
    if remove_models:
        paths.append(home / "models")
    return [*paths, home / CONFIG_FILE_NAME]


def mounted_read_only(path: Path) -> bool:
    """`path` is on a read-only mount or is a mount of its own: appliance.toml as a Kubernetes ConfigMap
    (deploy/kubernetes/deployment.yaml mounts it with subPath, readOnly), which only the cluster can remove."""
    try:
        return os.path.ismount(path) or bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


KEPT_CONFIG_HINT = ("appliance.toml is mounted read-only (a ConfigMap); it holds settings, no customer data. "
                    "Delete it where it comes from: `kubectl delete configmap aidizen-config` (and the Deployment "
                    "that mounts it).")


def remove_files(paths: list[Path]) -> Outcome:
    """Remove each path that exists (directories with what is in them); a configuration file mounted read-only
    is left to the admin (`needs_admin`), never a failure."""
    removed, failed, kept = [], [], []
    for path in paths:
        if not path.exists() and not path.is_symlink():
            continue
        if path.name == CONFIG_FILE_NAME and mounted_read_only(path):
            kept.append(path.name)
            continue
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path.name)
        except OSError as exc:
            failed.append(f"{path} ({exc.strerror})")
    if failed:
        return Outcome("failed", "could not remove " + ", ".join(failed),
                       "Remove these paths by hand (check their owner and mode).")
    done = "removed " + ", ".join(removed) + " (no customer data by design: not overwritten)" if removed else (
        "nothing else the appliance writes is left under $APPLIANCE_HOME")
    if kept:
        return Outcome("needs_admin", f"{done}; kept {', '.join(kept)} (mounted read-only)", KEPT_CONFIG_HINT)
    if not removed:
        return Outcome("already_done", done)
    return Outcome("done", done)


def store_is_gone(settings: Settings, keys: KeyProvider) -> Outcome:
    """Check: no database file and no key file exists."""
    left = store_files(settings) + keys.stored_files()
    if left:
        return Outcome("failed", "still present: " + ", ".join(map(str, left)),
                       "Remove them by hand (`shred -u FILE`), then run `appliance offboard` again.")
    where = "" if keys.destroys_key else f"; the key in the {keys.describe()} is outside the appliance"
    return Outcome(
        "passed", f"neither {database_path(settings).name} (nor its side files) nor a key file exists{where}"
    )


def home_is_empty(home: Path, kept_models: Path | None) -> Outcome:
    """Check: no file is left under $APPLIANCE_HOME (model files aside, when they are kept)."""
    if not home.exists():
        return Outcome("passed", f"{home} does not exist")
    left = [p for p in sorted(home.rglob("*")) if not p.is_dir() or p.is_symlink()]
    if kept_models is not None:
        left = [p for p in left if kept_models not in p.parents]
    config = home / CONFIG_FILE_NAME
    mounted = config in left and mounted_read_only(config)
    left = [p for p in left if not (mounted and p == config)]
    if left:
        shown = ", ".join(str(p.relative_to(home)) for p in left[:10]) + (" ..." if len(left) > 10 else "")
        return Outcome("failed", f"{len(left)} file(s) left under {home}: {shown}",
                       "The appliance did not write these (or could not remove them): move or delete them, then run "
                       "`appliance offboard` again.")
    kept = f" (model files kept in {kept_models.name}/)" if kept_models is not None and kept_models.exists() else ""
    if mounted:
        kept += f" (only the read-only mounted {CONFIG_FILE_NAME}, which the cluster removes)"
    return Outcome("passed", f"no file is left under {home}{kept}")


# -- the receipt file --------------------------------------------------------------------------------
def check_receipt_path(path: Path, home: Path) -> Path:
    """The absolute receipt path, refused if it exists, lies inside $APPLIANCE_HOME, or its folder is not writable."""
    target = path.expanduser().absolute()
    resolved = target.parent.resolve() / target.name
    if home.resolve() == resolved or home.resolve() in resolved.parents:
        raise ReceiptPathError(
            f"the receipt {target} would be inside $APPLIANCE_HOME ({home}), which this command empties"
        )
    if target.exists() or target.is_symlink():
        raise ReceiptPathError(f"{target} already exists; a receipt is never overwritten")
    if not target.parent.is_dir() or not os.access(target.parent, os.W_OK):
        raise ReceiptPathError(f"cannot write in {target.parent}")
    return target


def write_receipt(path: Path, data: bytes) -> None:
    """Write a new file with mode 0600 (O_EXCL: never overwrites), fsynced."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise ReceiptPathError(f"could not create the receipt {path}: {exc.strerror}",
                               hint="The receipt is printed below instead: save it yourself.") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o600)
