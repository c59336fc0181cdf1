"""The runtime: everything one app owns (store, clock, journal, scenarios, contracts, callbacks, tenants)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from emulator.config import Config
from emulator.core.callbacks import Callbacks
from emulator.core.clock import Clock
from emulator.core.contracts import Contracts
from emulator.core.errors import ConfigError
from emulator.core.journal import Journal, StoredJournal
from emulator.core.provider import Provider, TenantContext
from emulator.core.scenarios import Catalog, Scenarios, UnknownScenario
from emulator.core.store import Store, open_store
from emulator.core.tenants import TenantDirectory, load_tenant_entries, user_tenants

_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)  # version 4, RFC 4122 variant


class Runtime:
    """Per-app state, kept in `app.extensions["payemu"]`; never global, so every test gets its own."""

    def __init__(self, config: Config, providers: Sequence[Provider], operations: dict[str, set[str]]) -> None:
        self.config = config
        self.providers = {p.name: p for p in providers}
        self.operations = operations
        self.store: Store = open_store(config.store, {p.name: p.state_class for p in providers}, self._tenant_of)
        self._generation = self.store.generation()
        self.journal = (
            StoredJournal(config.journal_size, self.store) if self.store.shared else Journal(config.journal_size)
        )
        self.clock = Clock(self.store)
        self.clock.load(self.store.get_doc(Clock.DOC))
        self._fake: Any = None
        self.random = random.Random()
        self.seed(config.seed)
        self.contracts = Contracts(config.contracts_dir, list(self.providers))
        self.scenarios = Scenarios(
            config.scenarios_dir,
            {
                p.name: Catalog(
                    frozenset(operations.get(p.name, ())),
                    frozenset(p.errors),
                    frozenset(p.options),
                    p.state_actions(),
                )
                for p in providers
            },
            self.store,
        )
        overrides = user_tenants(config.tenants_file)
        self.tenants = {
            p.name: TenantDirectory(
                p.name,
                overrides.get(p.name) or _sample_tenants(p.tenants_file),
                open_tenants=config.open_tenants,
                store=self.store,
            )
            for p in providers
        }
        self.callbacks = Callbacks(
            self.clock.now, store=self.store, enabled=config.callbacks, timeout=config.callback_timeout
        )
        self.deferred_effects = False  # set by the serving adapter: latency and faults happen there
        self._check_scenario_names()
        if config.scenario:
            self.scenarios.activate(self.scenarios.resolve(config.scenario).name)
        self.clock.on_change(self._clock_moved)
        self.clock.on_change(self.callbacks.wake)  # delays and retries are due on the virtual clock

    def _check_scenario_names(self) -> None:
        """A server or tenant scenario that no file defines stops start-up, naming it."""
        named = [("--scenario", self.config.scenario, None)] + [
            (f"tenant {t.id} of {p}", t.scenario, p) for p, directory in self.tenants.items() for t in directory
        ]
        for where, name, provider in named:
            if not name:
                continue
            try:
                self.scenarios.resolve(name, provider)
            except UnknownScenario as exc:
                raise ConfigError(f"{where}: {exc} (known: {', '.join(self.scenarios.names())})") from None

    def _tenant_of(self, provider: str, tenant_id: str) -> Any:
        return self.tenants[provider].get(tenant_id)

    def sync(self) -> None:
        """Catch up with changes made elsewhere (another replica, before a restart): when the store's
        generation moved, read the clock, the scenario activations and the run-time tenants again."""
        if not self.store.shared:
            return  # memory: this process made every change itself
        generation = self.store.generation()
        if generation == self._generation:
            return
        self._generation = generation
        self.clock.load(self.store.get_doc(Clock.DOC))
        self.scenarios.load(self.store.get_doc(Scenarios.DOC))
        for directory in self.tenants.values():
            directory.load(self.store.get_doc(directory.doc))

    @property
    def fake(self) -> Any:
        """A Faker for names, addresses and the like; created on first use (importing it is slow)."""
        if self._fake is None:
            from faker import Faker

            self._fake = Faker()
            self._fake.seed_instance(self.config.seed if self.config.seed is not None else self.random.random())
        return self._fake

    def uuid4(self) -> str:
        """A random version-4 UUID from the seeded generator (reproducible with --seed)."""
        value = self.random.getrandbits(128) & _UUID4_CLEAR | _UUID4_SET  # uuid.UUID() costs ~8 us
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def random_hex(self, digits: int) -> str:
        """`digits` random lower-case hex digits from the seeded generator (reproducible with --seed)."""
        return f"{self.random.getrandbits(4 * digits):0{digits}x}"

    def seed(self, seed: int | None) -> None:
        """Make generated ids and fake data reproducible."""
        if seed is not None:
            self.random.seed(seed)
            if self._fake is not None:
                self._fake.seed_instance(seed)

    def reset(self, provider: str | None = None, tenant: str | None = None) -> None:
        """Forget state and journal (all, one provider's, or one tenant's); a full reset also rewinds
        the clock, scenarios, callbacks and admitted tenants."""
        self.store.reset(provider, tenant)
        self.journal.clear(provider=provider, tenant=tenant)
        if provider is None and tenant is None:
            self.clock.reset()
            self.scenarios.reset()
            self.callbacks.reset()
            for directory in self.tenants.values():
                directory.reset()
            if self.config.scenario:
                self.scenarios.activate(self.scenarios.resolve(self.config.scenario).name)
            self.seed(self.config.seed)

    def close(self) -> None:
        """Stop the callback dispatcher and the journal writer, then close the store (in that order: a
        writer still running on a closed SQLite connection would crash the process)."""
        self.callbacks.close()
        self.journal.close()
        self.store.close()

    def run_action(self, provider_name: str, tenant: Any, handler: Any, args: dict[str, Any]) -> Any:
        """Run an admin action with the tenant's state held under its lock."""
        provider = self.providers[provider_name]
        context = TenantContext(self, provider, tenant, self.clock.now(provider_name, tenant.id))
        with self.store.open(provider_name, tenant.id) as state:
            context.state = state
            return handler(context, **args)

    def _clock_moved(self, now: float, moved_provider: str | None, moved_tenant: str | None) -> None:
        """Let providers react to time passing (expiry sweeps that send unprompted callbacks): every
        tenant when the server's clock moved, only that tenant when one tenant's did."""
        for provider in self.providers.values():
            if provider.on_clock is None or moved_provider not in (None, provider.name):
                continue
            for tenant_id in self.store.tenants(provider.name):
                tenant = self.tenants[provider.name].get(tenant_id)
                if tenant is None or moved_tenant not in (None, tenant_id):
                    continue
                tenant_now = self.clock.now(provider.name, tenant_id)
                context = TenantContext(self, provider, tenant, tenant_now)
                with self.store.open(provider.name, tenant_id) as state:
                    context.state = state
                    provider.on_clock(context, tenant_now)


def _sample_tenants(path: Path) -> list:
    data = load_tenant_entries(path)
    return list(data or [])
