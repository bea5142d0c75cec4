//! Role queue: every player on a team must be given a distinct role slot the team needs.
//!
//! ```json
//! { "name": "Roles", "type": "plugin", "plugin": "role_queue", "attributes": ["roles"],
//!   "parameters": { "tank": 1, "healer": 1, "dps": 3 } }
//! ```
//!
//! - `roles` is a `string_list` attribute: the roles a player can play (`["tank", "dps"]`).
//! - Every parameter is a role: its name is the role, its value the number of players each
//!   team needs in it (rounded down; negative or `NaN` counts as 0). The values in force
//!   are used, so an expansion can relax a count.
//! - A **complete** candidate passes iff each team has exactly as many players as role
//!   slots and the players can be assigned distinct slots of roles they listed: a perfect
//!   bipartite matching, found with augmenting paths.
//! - A **partial** candidate passes iff the seated players of each team can all be given
//!   distinct slots (the matching saturates the players). So it fails as soon as, say, a
//!   fourth dps-only player joins a team that needs 3 dps, but not because a role is still
//!   missing.
//! - The plugin also **filters** tickets: a ticket is rejected when its own players cannot
//!   all be seated on one team (party members share a team) — for a solo player, when they
//!   list none of the required roles.
//!
//! Parties: ABI v1 gives each party member the union of the party's role lists (the
//! default `partyAggregation`), so for a party the check is optimistic: any member is
//! assumed able to play any role a member listed.

use rallypoint_plugin_sdk::{
    Attr, Candidate, Filter, Param, Players, Rule, Setup, SetupError, Symbol, Ticket, Verdict, export_rule, kind,
};

/// Roles are a bit set in a `u32`.
const MAX_ROLES: usize = 32;
/// More players than any FlexMatch team can have (200 per match).
const MAX_TEAM: usize = 256;
const UNASSIGNED: u8 = u8::MAX;

struct RoleQueue {
    roles_attr: Attr<kind::StringList>,
    /// Per role: the symbol of its name (players' list entries) and its count parameter.
    roles: Vec<(Symbol, Param)>,
}

impl Rule for RoleQueue {
    fn new(setup: &Setup) -> Result<Self, SetupError> {
        let roles_attr = setup.attribute("roles")?;
        let parameters = setup.parameters();
        if parameters.is_empty() {
            return Err(SetupError::MissingParameter);
        }
        if parameters.len() > MAX_ROLES {
            return Err(SetupError::Unsupported);
        }
        if parameters.iter().any(|p| p.base_value().is_nan() || p.base_value() < 0.0) {
            return Err(SetupError::InvalidParameter);
        }
        Ok(RoleQueue { roles_attr, roles: parameters.iter().map(|p| (p.symbol(), p.param())).collect() })
    }

    fn score(&self, c: &Candidate<'_>) -> Verdict {
        let capacity = self.capacity(|p| c.param(p));
        let slots: usize = capacity.iter().map(|&n| n as usize).sum();
        Verdict::from_bool(
            c.teams().all(|team| (!c.is_complete() || team.len() == slots) && self.can_seat(team.players(), &capacity)),
        )
    }
}

impl Filter for RoleQueue {
    fn keep(&self, ticket: &Ticket<'_>) -> bool {
        self.can_seat(ticket.players(), &self.capacity(|p| ticket.param(p)))
    }
}

export_rule!(RoleQueue, filter);

impl RoleQueue {
    /// Slots per role, from the parameter values in force.
    fn capacity(&self, value: impl Fn(Param) -> f64) -> [u32; MAX_ROLES] {
        let mut capacity = [0; MAX_ROLES];
        for (slots, &(_, param)) in capacity.iter_mut().zip(&self.roles) {
            let v = value(param);
            *slots = if v >= 0.0 { v.min(MAX_TEAM as f64) as u32 } else { 0 };
        }
        capacity
    }

    /// Whether every player can get a distinct slot of a role they listed.
    fn can_seat(&self, players: Players<'_>, capacity: &[u32; MAX_ROLES]) -> bool {
        let n = players.len();
        let slots: usize = capacity.iter().map(|&c| c as usize).sum();
        if n > slots || n > MAX_TEAM {
            return false;
        }
        // Each player's playable roles, as a bit set of role indices with open slots.
        let mut playable = [0u32; MAX_TEAM];
        for (mask, player) in playable.iter_mut().zip(players) {
            for symbol in player.string_list(self.roles_attr) {
                if let Some(role) = self.roles.iter().position(|&(s, _)| s == symbol)
                    && capacity[role] > 0
                {
                    *mask |= 1 << role;
                }
            }
            if *mask == 0 {
                return false;
            }
        }
        let mut m =
            Matching { playable: &playable[..n], capacity, used: [0; MAX_ROLES], role_of: [UNASSIGNED; MAX_TEAM] };
        (0..n).all(|player| m.augment(player, &mut 0))
    }
}

/// A matching of players to role slots (a role with capacity c is c interchangeable slots).
struct Matching<'a> {
    playable: &'a [u32],
    capacity: &'a [u32; MAX_ROLES],
    used: [u32; MAX_ROLES],
    role_of: [u8; MAX_TEAM],
}

impl Matching<'_> {
    /// Finds an augmenting path from the unassigned (or displaced) `player`: a free slot of a
    /// role they can play, or a full role one of whose holders can move elsewhere. `visited`
    /// holds the roles already tried in this search, so the recursion is at most
    /// `MAX_ROLES` deep.
    fn augment(&mut self, player: usize, visited: &mut u32) -> bool {
        let mut options = self.playable[player] & !*visited;
        while options != 0 {
            let role = options.trailing_zeros() as usize;
            options &= options - 1;
            *visited |= 1 << role;
            if self.used[role] < self.capacity[role] {
                self.used[role] += 1;
                self.role_of[player] = role as u8;
                return true;
            }
            for holder in 0..self.playable.len() {
                if self.role_of[holder] == role as u8 && self.augment(holder, visited) {
                    // `holder` moved to another role; `player` takes its slot.
                    self.role_of[player] = role as u8;
                    return true;
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rallypoint_plugin_sdk::AttributeKind;
    use rallypoint_plugin_sdk::testing::{Host, TestCandidate, TestSetup, TestTicket, Value};

    /// Teams need 1 tank, 1 healer and 3 dps.
    fn setup(teams: &[&str]) -> TestSetup {
        TestSetup::new()
            .attribute("roles", AttributeKind::StringList)
            .parameter("tank", 1.0)
            .parameter("healer", 1.0)
            .parameter("dps", 3.0)
            .teams(teams)
    }

    /// A host with one team (`red`) unless `teams` says otherwise, and these players.
    fn host_with(teams: &[&str], players: &[&[&str]]) -> Host<RoleQueue> {
        let mut host = Host::new(&setup(teams)).expect("setup accepted");
        let rows: Vec<Vec<Value>> = players.iter().map(|roles| vec![Value::list(roles)]).collect();
        host.load_players(&rows).expect("table accepted");
        host
    }

    fn host(players: &[&[&str]]) -> Host<RoleQueue> {
        host_with(&["red"], players)
    }

    fn passes(host: &mut Host<RoleQueue>, candidate: TestCandidate) -> bool {
        host.score(&[candidate]).unwrap()[0].is_pass()
    }

    #[test]
    fn a_complete_match_passes_only_with_one_player_per_slot_on_every_team() {
        let mut h = host_with(
            &["red", "blue"],
            &[
                &["tank"],
                &["healer"],
                &["dps"],
                &["dps"],
                &["dps", "healer"],
                &["tank"],
                &["tank", "dps"],
                &["dps"],
                &["dps"],
                &["healer"],
                &["tank"], // 10
            ],
        );
        assert!(passes(&mut h, TestCandidate::complete(&[&[0, 1, 2, 3, 4], &[5, 6, 7, 8, 9]])));
        // Two tank-only players (5 and 10) on blue, and no healer.
        assert!(!passes(&mut h, TestCandidate::complete(&[&[0, 1, 2, 3, 4], &[5, 6, 7, 8, 10]])));
        assert!(!passes(&mut h, TestCandidate::partial(&[&[], &[5, 10]])));
        // Two healer-only players on red.
        assert!(!passes(&mut h, TestCandidate::complete(&[&[0, 1, 2, 3, 9], &[5, 6, 7, 8, 4]])));
        // A team short of players is not a complete match, but a fine partial one.
        assert!(!passes(&mut h, TestCandidate::complete(&[&[0, 1, 2, 3, 4], &[5, 6, 7, 8]])));
        assert!(passes(&mut h, TestCandidate::partial(&[&[0, 1, 2, 3, 4], &[5, 6, 7, 8]])));
        // So is an empty one.
        assert!(passes(&mut h, TestCandidate::partial(&[&[], &[]])));
    }

    #[test]
    fn a_partial_team_fails_only_when_its_players_cannot_all_be_seated() {
        let mut h = host(&[&["dps"], &["dps"], &["dps"], &["dps"], &["dps", "tank"], &["support"]]);
        // Three dps on a team that needs three: fine, tank and healer can come later.
        assert!(passes(&mut h, TestCandidate::partial(&[&[0, 1, 2]])));
        // The same team is not a complete match.
        assert!(!passes(&mut h, TestCandidate::complete(&[&[0, 1, 2]])));
        // A fourth dps-only player cannot be seated.
        assert!(!passes(&mut h, TestCandidate::partial(&[&[0, 1, 2, 3]])));
        // A flexible fourth player takes the tank slot.
        assert!(passes(&mut h, TestCandidate::partial(&[&[0, 1, 2, 4]])));
        // A player with no required role never fits.
        assert!(!passes(&mut h, TestCandidate::partial(&[&[5]])));
    }

    #[test]
    fn the_matching_moves_flexible_players_along_augmenting_paths() {
        // Seated in this order, a greedy assignment gives player 0 the tank slot and then
        // has nothing for player 1; the matching moves 0 to healer, and player 2 moves it on
        // to dps.
        let mut h = host(&[&["tank", "healer", "dps"], &["tank"], &["healer"], &["dps"], &["dps"]]);
        assert!(passes(&mut h, TestCandidate::partial(&[&[0, 1]])));
        assert!(passes(&mut h, TestCandidate::partial(&[&[0, 1, 2]])));
        assert!(passes(&mut h, TestCandidate::complete(&[&[0, 1, 2, 3, 4]])));
        assert!(passes(&mut h, TestCandidate::complete(&[&[4, 3, 2, 1, 0]])));
        assert!(passes(&mut h, TestCandidate::complete(&[&[1, 2, 0, 4, 3]])));
    }

    #[test]
    fn counts_in_force_come_from_the_candidate() {
        let mut h = host(&[&["dps"], &["dps"], &["dps"], &["dps"], &["healer"]]);
        let four_dps = TestCandidate::partial(&[&[0, 1, 2, 3]]);
        assert!(!passes(&mut h, four_dps.clone()));
        // An expansion asks for 4 dps and no tank: 4 dps + 1 healer is a full team.
        assert!(passes(&mut h, four_dps.with_params(&[0.0, 1.0, 4.0])));
        assert!(passes(&mut h, TestCandidate::complete(&[&[0, 1, 2, 3, 4]]).with_params(&[0.0, 1.0, 4.0])));
        assert!(!passes(&mut h, TestCandidate::complete(&[&[0, 1, 2, 3, 4]])));
    }

    #[test]
    fn the_filter_rejects_tickets_that_can_never_be_seated() {
        let mut h = host(&[&["support"], &["dps"], &["tank", "support"], &["tank"], &["tank"]]);
        let kept = h
            .filter(&[
                TestTicket::new(&[0]),                                  // lists no required role
                TestTicket::new(&[1]),                                  // dps
                TestTicket::new(&[2]),                                  // tank, and a role nobody needs
                TestTicket::new(&[3, 4]),                               // a party of two tanks for one tank slot
                TestTicket::new(&[3, 4]).with_params(&[2.0, 1.0, 3.0]), // ... unless two are needed
            ])
            .unwrap();
        assert_eq!(kept, [false, true, true, false, true]);
    }

    #[test]
    fn setup_checks_the_attribute_and_the_counts() {
        let no_roles = TestSetup::new().parameter("tank", 1.0);
        assert_eq!(Host::<RoleQueue>::new(&no_roles).err(), Some(SetupError::MissingAttribute.code()));
        let wrong_kind = TestSetup::new().attribute("roles", AttributeKind::String).parameter("tank", 1.0);
        assert_eq!(Host::<RoleQueue>::new(&wrong_kind).err(), Some(SetupError::AttributeKind.code()));
        let no_counts = TestSetup::new().attribute("roles", AttributeKind::StringList);
        assert_eq!(Host::<RoleQueue>::new(&no_counts).err(), Some(SetupError::MissingParameter.code()));
        let negative = setup(&["red"]).parameter("flex", -1.0);
        assert_eq!(Host::<RoleQueue>::new(&negative).err(), Some(SetupError::InvalidParameter.code()));
    }
}
