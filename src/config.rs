//! The user's settings file, `$XDG_CONFIG_HOME/daemonscope/config.toml` (`~/.config/…`,
//! or `--config FILE`): the view to open with, the grid's grouping label, the nodes
//! view's extra label column, the theme and colours per state, key overrides by action
//! name, and the mouse. A file that is not right is ONE line naming the file, the line
//! and the key (`config.toml:7: unknown key 'thme'`); the TUI then starts with the
//! defaults. [`default_toml`] is a commented file holding every default.
//!
//! May import: `ui` (the settings it makes), `cli` (its flags), `k8s`, `logging`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ratatui::style::Color;
use serde::Deserialize;

use crate::ui::keymap::{Action, BINDINGS, Keymap};
use crate::ui::{Palette, Prefs, Settings, Theme, View};

/// The file as written: every field optional, unknown keys refused.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub view: StartView,
    pub group_by: String,
    pub node_label: String,
    pub theme: ThemeName,
    pub mouse: bool,
    pub colors: Colors,
    pub keys: BTreeMap<String, Keys>,
    /// The DaemonSets a joining node needs before it is usable (`namespace/name`).
    pub critical: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            view: StartView::Daemonsets,
            group_by: crate::ui::GROUP_KEYS[0].to_string(),
            node_label: String::new(),
            theme: ThemeName::Dark,
            mouse: true,
            colors: Colors::default(),
            keys: BTreeMap::new(),
            critical: Vec::new(),
        }
    }
}

/// The views the TUI can open with (the grid and the detail need a selection first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StartView {
    Daemonsets,
    Matrix,
    Nodes,
    Rollout,
}

impl StartView {
    fn view(self) -> View {
        match self {
            StartView::Daemonsets => View::DaemonSets,
            StartView::Matrix => View::Matrix,
            StartView::Nodes => View::Nodes,
            StartView::Rollout => View::Rollout,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThemeName {
    Dark,
    Light,
    HighContrast,
}

/// Colours per state (and for the chrome) over the theme's.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Colors {
    pub ready: Option<ColorSpec>,
    pub outdated: Option<ColorSpec>,
    pub starting: Option<ColorSpec>,
    pub failing: Option<ColorSpec>,
    pub missing: Option<ColorSpec>,
    pub misscheduled: Option<ColorSpec>,
    pub terminating: Option<ColorSpec>,
    pub node_not_ready: Option<ColorSpec>,
    pub ineligible: Option<ColorSpec>,
    pub dim: Option<ColorSpec>,
    pub warn: Option<ColorSpec>,
    pub alert: Option<ColorSpec>,
}

impl Colors {
    fn each(&self) -> [(&'static str, Option<Color>); 12] {
        let c = |s: &Option<ColorSpec>| s.as_ref().map(|c| c.0);
        [
            ("ready", c(&self.ready)),
            ("outdated", c(&self.outdated)),
            ("starting", c(&self.starting)),
            ("failing", c(&self.failing)),
            ("missing", c(&self.missing)),
            ("misscheduled", c(&self.misscheduled)),
            ("terminating", c(&self.terminating)),
            ("node-not-ready", c(&self.node_not_ready)),
            ("ineligible", c(&self.ineligible)),
            ("dim", c(&self.dim)),
            ("warn", c(&self.warn)),
            ("alert", c(&self.alert)),
        ]
    }
}

/// A colour: a name (`green`, `lightred`…), an index 0-255, or `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColorSpec(pub Color);

impl<'de> Deserialize<'de> for ColorSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<Color>().map(ColorSpec).map_err(|_| {
            serde::de::Error::custom(format!("unknown colour '{s}' (a name such as green or lightred, an index 0-255, or #rrggbb)"))
        })
    }
}

/// An action's keys: `"x"` or `["x", "Ctrl-x"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys(pub Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a key or a list of keys")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Keys, E> {
                Ok(Keys(vec![v.to_string()]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Keys, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = seq.next_element::<String>()? {
                    out.push(k);
                }
                Ok(Keys(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `daemonscope config`: what to print (the commented default, the path, or that the file
/// is fine or absent), or the one line that says what is wrong with it. `before`: a
/// `--config` given before the subcommand.
pub fn command(args: &crate::cli::ConfigArgs, before: Option<&Path>) -> Result<String, String> {
    if args.print_default {
        return Ok(default_toml());
    }
    let explicit = args.config.as_deref().or(before);
    let path = explicit.map(Path::to_path_buf).unwrap_or_else(default_path);
    if args.path {
        return Ok(format!("{}\n", path.display()));
    }
    Ok(match load_file(&path, explicit.is_some())? {
        Some(_) => format!("{}: ok\n", shown(&path)),
        None => format!("{}: no such file; the defaults apply (`daemonscope config --print-default` shows them)\n", shown(&path)),
    })
}

/// `$XDG_CONFIG_HOME/daemonscope/config.toml` (`~/.config/daemonscope/config.toml`).
pub fn default_path() -> PathBuf {
    crate::logging::xdg_dir("XDG_CONFIG_HOME", ".config").join("config.toml")
}

/// A path as the user knows it: the home directory as `~`.
pub fn shown(path: &Path) -> String {
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty())
        && let Ok(rest) = path.strip_prefix(&home)
    {
        return format!("~/{}", rest.display());
    }
    path.display().to_string()
}

/// The settings the TUI starts with: the config's, or the defaults with the one line
/// that says why not (`note`). `explicit`: `--config FILE` (a missing file is then an
/// error; the default file may be absent).
pub fn load_for_tui(explicit: Option<&Path>) -> Settings {
    let path = explicit.map(Path::to_path_buf).unwrap_or_else(default_path);
    let (settings, note) = match load_file(&path, explicit.is_some()) {
        Ok(Some(s)) => (s, None),
        Ok(None) => (resolve(&Config::default(), "", "").unwrap_or_else(|_| unreachable!("the defaults resolve")), None),
        Err(line) => (resolve(&Config::default(), "", "").unwrap_or_else(|_| unreachable!("the defaults resolve")), Some(line)),
    };
    let mut settings = settings;
    if let Some(n) = &note {
        tracing::warn!(config = %path.display(), problem = %n, "config not used; starting with the defaults");
    }
    settings.prefs.config_path = Some(shown(&path));
    settings.prefs.note = note.clone();
    settings.note = note;
    settings
}

/// The config's `critical` list for the headless commands: empty when there is no file or
/// it is not right (the TUI says why; `daemonscope config` checks it).
/// `status --joins` without `--critical`: the config's critical list.
pub fn with_critical(args: &crate::cli::StatusArgs, config: Option<&Path>) -> crate::cli::StatusArgs {
    let mut args = args.clone();
    if args.joins.joins && args.joins.judged.critical.is_empty() {
        args.joins.judged.critical = critical(config);
    }
    args
}

/// `serve` without `--critical`: the config's critical list.
pub fn serve_with_critical(mut args: crate::cli::ServeArgs, config: Option<&Path>) -> crate::cli::ServeArgs {
    if args.joins.critical.is_empty() {
        args.joins.critical = critical(config);
    }
    args
}

pub fn critical(explicit: Option<&Path>) -> Vec<String> {
    let path = explicit.map(Path::to_path_buf).unwrap_or_else(default_path);
    match load_file(&path, explicit.is_some()) {
        Ok(Some(s)) => s.prefs.critical,
        Ok(None) => Vec::new(),
        Err(line) => {
            tracing::warn!(config = %path.display(), problem = %line, "config not used for the critical DaemonSets");
            Vec::new()
        }
    }
}

/// Reads and checks `path`: Ok(None) when there is no file (and none was asked for),
/// else the settings, or the one line that says what is wrong where.
pub fn load_file(path: &Path, explicit: bool) -> Result<Option<Settings>, String> {
    let name = shown(path);
    let text = match crate::k8s::files::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == Some(std::io::ErrorKind::NotFound) && !explicit => return Ok(None),
        Err(crate::k8s::files::ReadError::Io(e)) => return Err(format!("{name}: cannot read: {}", io_reason(&e))),
        Err(e) => return Err(format!("{name}: cannot read: {e}")),
    };
    parse(&text, &name).map(Some)
}

fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    // "No such file or directory (os error 2)" → without the errno.
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The settings `text` (from the file `name`) makes, or its first problem as one line.
pub fn parse(text: &str, name: &str) -> Result<Settings, String> {
    let cfg: Config = toml::from_str(text).map_err(|e| {
        let at = e.span().map(|s| s.start).unwrap_or(0);
        let line = line_of(text, at);
        format!("{name}:{line}: {}", describe(e.message(), key_at(text, at).as_deref()))
    })?;
    resolve(&cfg, text, name)
}

/// The 1-based line of byte `at`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// The key written on the line of byte `at`, with its table (`colors.ready`).
fn key_at(text: &str, at: usize) -> Option<String> {
    let at = at.min(text.len());
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next().unwrap_or("").trim();
    if let Some(h) = line.strip_prefix('[') {
        return Some(h.trim_end_matches(']').trim().to_string());
    }
    let key = line.split('=').next()?.trim().trim_matches('"');
    if key.is_empty() {
        return None;
    }
    let table = text[..start].lines().rev().map(str::trim).find(|l| l.starts_with('[')).map(|l| l.trim_matches(['[', ']']).trim());
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_string(),
    })
}

/// serde's and toml's wording, as a config file's reader wants it.
fn describe(message: &str, key: Option<&str>) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (bad, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let names: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        let known = key.and_then(|k| k.rsplit_once('.')).map(|(t, _)| format!("{t}.")).unwrap_or_default();
        return format!("unknown key '{known}{bad}'{}", did_you_mean(bad, &names));
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (bad, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let names: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        return format!("key '{}': unknown value '{bad}' (one of {})", key.unwrap_or("?"), names.join(", "));
    }
    match key {
        Some(k) => format!("key '{k}': {message}"),
        None => message.to_string(),
    }
}

/// ` (did you mean 'x'?)` when one name is close to what was typed.
fn did_you_mean(typed: &str, names: &[&str]) -> String {
    names
        .iter()
        .map(|n| (edit_distance(typed, n), n))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, n)| format!(" (did you mean '{n}'?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push((prev[j] + (ca != cb) as usize).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The line a `[keys]` entry (or any top-level key) is written on, for messages about
/// what serde accepted but daemonscope does not.
fn line_of_key(text: &str, table: Option<&str>, key: &str) -> usize {
    let mut in_table = table.is_none();
    for (i, l) in text.lines().enumerate() {
        let l = l.trim();
        if l.starts_with('[') {
            in_table = table.is_some_and(|t| l.trim_matches(['[', ']']).trim() == t);
            continue;
        }
        if in_table && l.split('=').next().is_some_and(|k| k.trim().trim_matches('"') == key) {
            return i + 1;
        }
    }
    1
}

/// An action's name in the config: its variant in kebab case (`EditLabels` → `edit-labels`).
pub fn action_name(a: Action) -> String {
    let mut out = String::new();
    for (i, c) in format!("{a:?}").chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Every action of the keymap, once, in the keymap's order.
fn actions() -> Vec<Action> {
    let mut out: Vec<Action> = Vec::new();
    for b in BINDINGS {
        if !out.contains(&b.action) {
            out.push(b.action);
        }
    }
    out
}

/// The keys an action has by default (its first binding's).
fn default_keys(a: Action) -> &'static [&'static str] {
    BINDINGS.iter().find(|b| b.action == a).map(|b| b.keys).unwrap_or(&[])
}

/// Named keys: (the keymap's name, the names a config may use for it).
const NAMED_KEYS: &[(&str, &[&str])] = &[
    ("↑", &["up", "↑"]),
    ("↓", &["down", "↓"]),
    ("←", &["left", "←"]),
    ("→", &["right", "→"]),
    ("PgUp", &["pgup", "pageup"]),
    ("PgDn", &["pgdn", "pagedown"]),
    ("Home", &["home"]),
    ("End", &["end"]),
    ("Enter", &["enter", "return"]),
    ("Esc", &["esc", "escape"]),
    ("Space", &["space"]),
    ("Tab", &["tab"]),
    ("Shift-Tab", &["shift-tab", "backtab"]),
];

/// A key as the keymap names it, from what a config may write (`Down`, `ctrl-b`, `x`).
fn key_name(written: &str) -> Result<String, String> {
    let lower = written.to_lowercase();
    if let Some((name, _)) = NAMED_KEYS.iter().find(|(_, aliases)| aliases.contains(&lower.as_str())) {
        return Ok(name.to_string());
    }
    if let Some(c) = lower.strip_prefix("ctrl-").or_else(|| lower.strip_prefix("c-"))
        && c.chars().count() == 1
        && c.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Ok(format!("Ctrl-{c}"));
    }
    let mut chars = written.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if !c.is_whitespace() && !c.is_control() => Ok(c.to_string()),
        _ => Err(format!(
            "'{written}' is not a key (a character, Ctrl-x, Up, Down, Left, Right, PgUp, PgDn, Home, End, Enter, Esc, Space, Tab or Shift-Tab)"
        )),
    }
}

/// The name a config writes for a keymap key (`↓` → `Down`).
fn written_key(name: &str) -> String {
    match name {
        "↑" => "Up".into(),
        "↓" => "Down".into(),
        "←" => "Left".into(),
        "→" => "Right".into(),
        _ => name.into(),
    }
}

/// The config as the TUI's settings: the palette, the prefs and the key table, checked
/// (unknown actions, keys that are no key, a key that would mean two things in a view).
fn resolve(cfg: &Config, text: &str, name: &str) -> Result<Settings, String> {
    let at = |table: Option<&str>, key: &str| format!("{name}:{}", line_of_key(text, table, key));
    let mut palette = match cfg.theme {
        ThemeName::Dark => Palette::DARK,
        ThemeName::Light => Palette::LIGHT,
        ThemeName::HighContrast => Palette::HIGH_CONTRAST,
    };
    for (state, c) in cfg.colors.each() {
        if let Some(c) = c {
            palette.set(state, c);
        }
    }
    let label = |key: &str, v: &str| -> Result<Option<String>, String> {
        if v.is_empty() {
            return Ok(None);
        }
        match crate::k8s::labels::validate_label_key(v).first() {
            Some(p) => Err(format!("{}: key '{key}': '{v}' is not a label key: {p}", at(None, key))),
            None => Ok(Some(v.to_string())),
        }
    };
    let prefs = Prefs {
        view: cfg.view.view(),
        group_by: label("group_by", &cfg.group_by)?,
        node_label: label("node_label", &cfg.node_label)?,
        config_path: None,
        note: None,
        critical: cfg
            .critical
            .iter()
            .map(|c| crate::cli::parse_critical(c).map_err(|e| format!("{}: key 'critical': {e}", at(None, "critical"))))
            .collect::<Result<_, _>>()?,
    };
    let all = actions();
    let mut overrides: Vec<(Action, Vec<String>)> = Vec::new();
    for (written, keys) in &cfg.keys {
        let where_ = at(Some("keys"), written);
        let names: Vec<String> = all.iter().map(|a| action_name(*a)).collect();
        let Some(action) = all.iter().copied().find(|a| action_name(*a) == *written) else {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            return Err(format!("{where_}: unknown action 'keys.{written}'{}", did_you_mean(written, &refs)));
        };
        if keys.0.is_empty() {
            return Err(format!("{where_}: key 'keys.{written}': give at least one key"));
        }
        let list =
            keys.0.iter().map(|k| key_name(k).map_err(|e| format!("{where_}: key 'keys.{written}': {e}"))).collect::<Result<_, _>>()?;
        overrides.push((action, list));
    }
    let keymap = Keymap::with_keys(&overrides);
    if let Some((view, k, prev, next)) = keymap.clash() {
        let (mine, other) = if overrides.iter().any(|(a, _)| *a == next) { (next, prev) } else { (prev, next) };
        return Err(format!(
            "{}: key 'keys.{}': '{}' already means {} in the {} view",
            at(Some("keys"), &action_name(mine)),
            action_name(mine),
            written_key(k),
            action_name(other),
            view.title()
        ));
    }
    Ok(Settings { theme: Theme::with_palette(palette), prefs, keymap: keymap.into(), mouse: cfg.mouse, note: None })
}

/// A commented config holding every default: what `daemonscope config --print-default`
/// prints, and what parses back to the defaults.
pub fn default_toml() -> String {
    let d = Config::default();
    let mut out = String::from(
        "# daemonscope settings: $XDG_CONFIG_HOME/daemonscope/config.toml (~/.config/daemonscope/config.toml),\n\
         # or the file given with --config FILE. Every setting is optional; these are the defaults.\n\
         # A mistake is reported as one line (file:line: key) and daemonscope starts with the defaults;\n\
         # `daemonscope config` checks the file.\n\n",
    );
    out += "# The view to open with: daemonsets, matrix, nodes or rollout (Esc returns to the DaemonSets).\n";
    out += "view = \"daemonsets\"\n\n";
    out += &format!(
        "# The node label the coverage grid groups by (\"\" for no grouping); z cycles on through\n# {}.\n",
        crate::ui::GROUP_KEYS.join(", ")
    );
    out += &format!("group_by = \"{}\"\n\n", d.group_by);
    out += "# A node label shown as an extra column of the nodes view (\"\" for none; z cycles through them).\n";
    out += "node_label = \"\"\n\n";
    out += "# Colours: dark, light or high-contrast. NO_COLOR (set, not empty) turns colours off whatever this says.\n";
    out += "theme = \"dark\"\n\n";
    out += "# The mouse: a click selects, the wheel scrolls; false (or --no-mouse for one run) leaves it to the terminal.\n";
    out += "mouse = true\n\n";
    out += "# The DaemonSets a joining node needs before it is usable (namespace/name; --critical overrides).\n\
            # Empty: those at system-node-critical or system-cluster-critical priority or tolerating every taint.\n";
    out += "critical = []\n\n";
    out += "# Colours per state over the theme's: a name (black, red, green, yellow, blue, magenta, cyan,\n\
            # gray, darkgray, lightred, lightgreen, lightyellow, lightblue, lightmagenta, lightcyan,\n\
            # white), an index 0-255, or #rrggbb. The dark theme's:\n[colors]\n";
    for (state, _) in Colors::default().each() {
        let p = Palette::DARK;
        let c = match state {
            "dim" => p.dim,
            "warn" => p.warn,
            "alert" => p.alert,
            _ => {
                let s = crate::model::coverage::CellState::ALL.iter().find(|s| s.as_str() == state).copied();
                s.map(|s| p.states[s as usize]).unwrap_or(Color::Reset)
            }
        };
        out += &format!("# {state} = \"{}\"\n", c.to_string().to_lowercase());
    }
    out += "\n# Keys: an action's keys, in place of its defaults in every view: a character, Ctrl-x, Up,\n\
            # Down, Left, Right, PgUp, PgDn, Home, End, Enter, Esc, Space, Tab or Shift-Tab. Every action, with its keys:\n[keys]\n";
    for a in actions() {
        let keys: Vec<String> = default_keys(a).iter().map(|k| format!("\"{}\"", written_key(k))).collect();
        out += &format!("# {} = [{}]\n", action_name(a), keys.join(", "));
    }
    out
}
