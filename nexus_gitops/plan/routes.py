"""Routes from recognised APIs, and who gets each claim when several want it.

The routes are the one source of claims: an API claims exactly what :meth:`claims` lists for
the routes it would have in *every* style, so an annotation cannot take Keystone's host name in
path style just because host routes are not emitted there. What a rendered object serves (the
shared path host, the host-less catch-all, host rules), what DNS publishes and what the
conflict check judges are all read from the same :class:`~nexus_gitops.model.Route` objects.

Who wins a claim, strongest first:

1. a reserved name (the shared path host of each namespace, each zone's name server);
2. the operator's config (and this moves a committed route: a takeover, shown in the plan);
3. the incumbent: the Service that holds the claim in the committed state, also while its
   Service is gone and another Service wants the claim (a :class:`~nexus_gitops.model.Hold`);
4. recognition, then annotations.

Two candidates equal at the top are an ambiguity: neither gets the claim, and the config must
choose. Alphabetical order never decides who receives Keystone's passwords.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from nexus_gitops.config import Config
from nexus_gitops.errors import ConfigError
from nexus_gitops.model import (
    Api,
    Backend,
    Claim,
    CommittedState,
    Hold,
    HostRoute,
    PathRoute,
    Route,
    Skip,
    Trust,
)
from nexus_gitops.plan.tuning import tuning_for
from nexus_gitops.plan.zones import nameserver_name, zone_origins

Rank = tuple[int, int]
RESERVED: Rank = (-1, 0)
HELD: Rank = (1, 0)


def _rank(trust: Trust, incumbent: bool) -> Rank:
    if trust is Trust.CONFIG:
        return 0, 0
    return (1, int(trust)) if incumbent else (2, int(trust))


@dataclass(frozen=True)
class RoutePlan:
    routes: tuple[Route, ...]
    skipped: tuple[Skip, ...]
    holds: tuple[Hold, ...]


def reserved_claims(config: Config) -> dict[Claim, str]:
    """Names no Service may take: each namespace's shared path host and each name server."""
    reserved: dict[Claim, str] = {}
    if config.routing.style.paths:
        for namespace in config.discovery.namespaces:
            reserved[Claim("host", "", config.path_host(namespace))] = (
                f"the shared path host of namespace {namespace}"
            )
    if config.dns.enabled:
        for origin in zone_origins(config):
            claim = Claim("host", "", nameserver_name(origin))
            if claim in reserved:
                raise ConfigError(
                    f"config: routing.path_host {claim.value} is the name server name of "
                    f"zone {origin}",
                    hint="choose another routing.path_host",
                )
            reserved[claim] = f"the name server of zone {origin}"
    return reserved


def _short_forms(api: Api, config: Config) -> tuple[str, ...]:
    """openstack-helm's in-cluster names: ``keystone`` (primary namespace only, it is not
    unique across namespaces) and ``keystone.openstack``. Ingress hosts, never DNS names."""
    qualified = f"{api.route_name}.{api.namespace}"
    if api.namespace == config.discovery.openstack_namespace:
        return api.route_name, qualified
    return (qualified,)


def _canonical_hosts(api: Api, config: Config, public: bool) -> tuple[str, ...]:
    names = [
        *_short_forms(api, config),
        f"{api.route_name}.{api.namespace}.svc.{config.routing.cluster_domain}",
    ]
    if config.routing.public_domain and public:
        names.append(f"{api.service_type}.{config.routing.public_domain}")
    return tuple(names)


def public_names(apis: Iterable[Api], config: Config) -> frozenset[str]:
    """The APIs (by ref) that get ``<service-type>.<public_domain>``: those in the primary
    namespace, and those whose service type the primary namespace does not have (an OpenStack
    spread over namespaces). With one OpenStack per namespace, the primary one has the public
    names, and no two namespaces fight over them."""
    apis = list(apis)
    primary = config.discovery.openstack_namespace
    primary_types = {api.service_type for api in apis if api.namespace == primary}
    return frozenset(
        api.ref for api in apis if api.namespace == primary or api.service_type not in primary_types
    )


def _host_route(api: Api, config: Config, hosts: Iterable[str]) -> HostRoute:
    hosts = tuple(dict.fromkeys(hosts))
    short = _short_forms(api, config)
    return HostRoute(
        name=f"{api.route_name}-host",
        backend=Backend(api.namespace, api.service, api.port),
        service_type=api.service_type,
        hosts=hosts,
        dns_names=tuple(h for h in hosts if h not in short and "." in h),
        tuning=tuning_for(api, config),
    )


def _path_route(api: Api, config: Config) -> PathRoute:
    return PathRoute(
        name=f"{api.route_name}-path",
        backend=Backend(api.namespace, api.service, api.port),
        service_type=api.service_type,
        prefix=api.prefix,
        host=config.path_host(api.namespace),
        catch_all=api.namespace == config.discovery.openstack_namespace,
        tuning=tuning_for(api, config),
    )


def routes_for(api: Api, config: Config, public: bool = True) -> list[Route]:
    """The routes rendered for an API in the configured style. Extra hosts get a host route in
    every style; host rules never share an Ingress with the prefix-stripping path rules."""
    routes: list[Route] = []
    if config.routing.style.paths:
        routes.append(_path_route(api, config))
    hosts = [
        *(_canonical_hosts(api, config, public) if config.routing.style.hosts else ()),
        *api.extra_hosts,
    ]
    if hosts:
        routes.append(_host_route(api, config, hosts))
    return routes


def claims_of(api: Api, config: Config, public: bool = True) -> dict[Claim, Trust]:
    """Everything the API holds, whatever the style, each with the trust of where it came from.

    Read from the routes it would have in both styles, so the claim set is the same in every
    style and never smaller than what is rendered.
    """
    everything: list[Route] = [
        _path_route(api, config),
        _host_route(api, config, [*_canonical_hosts(api, config, public), *api.extra_hosts]),
    ]
    claims: dict[Claim, Trust] = {}
    for route in everything:
        for claim in route.claims():
            if claim.kind == "name":
                trust = api.name_trust
            elif claim.kind == "path":
                trust = api.prefix_trust
            elif claim.value in api.extra_hosts:
                trust = min(api.hosts_trust, claims.get(claim, api.hosts_trust))
            else:
                trust = api.name_trust
            claims[claim] = min(trust, claims.get(claim, trust))
    return claims


def committed_holders(committed: CommittedState) -> dict[Claim, str]:
    """Who holds each claim in the committed state: the Services behind its routes, and the
    holds kept for Services that are gone."""
    holders = {hold.claim: hold.holder for hold in committed.holds}
    for route in committed.routes:
        for claim in route.claims():
            holders[claim] = route.backend.ref
    return holders


@dataclass(frozen=True)
class _Best:
    rank: Rank
    owners: tuple[str, ...]


def plan_routes(
    apis: Iterable[Api],
    config: Config,
    committed: CommittedState | None = None,
    *,
    allow_takeover: bool = False,
) -> RoutePlan:
    """Decide the routes. An API that loses any claim is skipped whole and reported, never
    half-routed; an API is only ever beaten by one that is itself routed (or a reserved name or
    a hold). When a skipped API has committed routes, they are kept as committed: a bad change
    to Keystone's annotations must not take Keystone off the air.

    ``allow_takeover`` releases the holds of Services that are gone, so another Service may take
    their claims; a Service that is still there keeps its claims unless the config moves them.
    """
    committed = committed or CommittedState()
    candidates = {api.ref: api for api in sorted(apis, key=lambda a: a.ref)}
    public = public_names(candidates.values(), config)
    claims = {ref: claims_of(api, config, ref in public) for ref, api in candidates.items()}
    reserved = reserved_claims(config)
    previous = committed_holders(committed)
    holds = {} if allow_takeover else {c: h for c, h in previous.items() if h not in candidates}
    incumbents = {route.backend.ref for route in committed.routes}
    active = dict(candidates)
    skipped: list[Skip] = []
    while True:
        best = _best_claimants(active, claims, reserved, holds, previous, incumbents)
        losses = {
            ref: [(claim, best[claim]) for claim in claims[ref] if best[claim].owners != (ref,)]
            for ref in active
        }
        losers = [ref for ref in active if losses[ref]]
        if not losers:
            break
        settled = {ref for ref in active if not losses[ref]}
        settled.update(reserved.values(), holds.values())
        beaten = [
            ref
            for ref in losers
            if any(len(b.owners) == 1 and b.owners[0] in settled for _, b in losses[ref])
        ]
        if not beaten:
            beaten = [r for r in losers if any(len(b.owners) > 1 for _, b in losses[r])]
        if not beaten:
            # A cycle of losers, each beaten only by another loser: skip the one whose
            # strongest claim is weakest (last by namespace/name on a tie), and look again.
            beaten = [max(losers, key=lambda ref: (min(claims[ref].values()), ref))]
        for ref in beaten:
            skipped.append(Skip(ref, _why(losses[ref], settled, reserved, holds), problem=True))
            del active[ref]

    routes = [r for ref, api in active.items() for r in routes_for(api, config, ref in public)]
    routes, skipped = _keep_committed(routes, skipped, committed, reserved)
    final = _best_claimants(active, claims, reserved, holds, previous, incumbents)
    kept_holds = tuple(
        Hold(claim, holder)
        for claim, holder in sorted(holds.items())
        if final[claim].owners == (holder,) and any(claim in claims[r] for r in candidates)
    )
    return RoutePlan(
        tuple(sorted(routes, key=lambda r: (r.namespace, r.name))),
        tuple(sorted(skipped, key=lambda s: s.ref)),
        kept_holds,
    )


def _best_claimants(
    active: Mapping[str, Api],
    claims: Mapping[str, Mapping[Claim, Trust]],
    reserved: Mapping[Claim, str],
    holds: Mapping[Claim, str],
    previous: Mapping[Claim, str],
    incumbents: set[str],
) -> dict[Claim, _Best]:
    """The strongest claimants of every claim. A Service with committed routes is the
    incumbent for the claims it committed, and for its claims that nobody committed (its host
    names in path style, say): it is already routed, and keeps what identifies it."""
    best: dict[Claim, _Best] = {}

    def offer(claim: Claim, rank: Rank, owner: str) -> None:
        current = best.get(claim)
        if current is None or rank < current.rank:
            best[claim] = _Best(rank, (owner,))
        elif rank == current.rank and owner not in current.owners:
            best[claim] = _Best(rank, (*current.owners, owner))

    for claim, label in reserved.items():
        offer(claim, RESERVED, label)
    for claim, holder in holds.items():
        offer(claim, HELD, holder)
    for ref in active:
        for claim, trust in claims[ref].items():
            committed_to = previous.get(claim)
            incumbent = committed_to == ref or (committed_to is None and ref in incumbents)
            offer(claim, _rank(trust, incumbent), ref)
    return best


def _why(
    lost: list[tuple[Claim, _Best]],
    settled: set[str],
    reserved: Mapping[Claim, str],
    holds: Mapping[Claim, str],
) -> str:
    """The reason for the first decisive lost claim, with what the operator can do."""
    claim, best = next(
        ((c, b) for c, b in lost if len(b.owners) == 1 and b.owners[0] in settled),
        next(((c, b) for c, b in lost if len(b.owners) > 1), lost[0]),
    )
    if len(best.owners) > 1:
        return (
            f"{claim} is claimed by {' and '.join(best.owners)} alike; choose one in the config "
            "(services.<namespace>/<name>: expose: false, or another path)"
        )
    winner = best.owners[0]
    if claim in reserved and reserved[claim] == winner:
        return f"{claim} is reserved: it is {winner}"
    if holds.get(claim) == winner:
        return (
            f"{claim} is held by {winner} in the committed state, and that Service is gone; "
            "give it to this Service in the config, or run once with --allow-takeover"
        )
    if best.rank[0] == 1:
        return (
            f"{claim} is held by {winner}, which has it committed; moving it needs the config "
            f"(services.{winner})"
        )
    return f"{claim} is already taken by {winner}"


def _keep_committed(
    routes: list[Route],
    skipped: list[Skip],
    committed: CommittedState,
    reserved: Mapping[Claim, str],
) -> tuple[list[Route], list[Skip]]:
    """Keep the committed routes of Services skipped for a conflict, where nothing routed now
    wants their claims: the incumbent keeps its route while its new wishes are refused."""
    taken = {claim for route in routes for claim in route.claims()} | set(reserved)
    losers = {skip.ref for skip in skipped}
    kept: list[Route] = []
    for route in committed.routes:
        if route.backend.ref in losers and not taken.intersection(route.claims()):
            kept.append(route)
            taken.update(route.claims())
    kept_refs = {route.backend.ref for route in kept}
    notes = [
        Skip(s.ref, f"{s.reason}; its committed routes are kept as they were", s.problem)
        if s.ref in kept_refs
        else s
        for s in skipped
    ]
    return [*routes, *kept], notes
