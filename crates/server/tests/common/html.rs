//! Reading the testbed's consent pages: the few values a person would read off them. Shared
//! with moa-core's tests, which include this file by path.

/// The value of the form field `name`.
pub fn field(html: &str, name: &str) -> String {
    text_after(html, &format!("name=\"{name}\" value=\""), '"', name)
}

/// The text of the element with id `id`.
pub fn element_text(html: &str, id: &str) -> String {
    text_after(html, &format!("id=\"{id}\">"), '<', &format!("#{id}"))
}

/// The text after `marker` up to `end`; `what` names it if the page lacks it.
fn text_after(html: &str, marker: &str, end: char, what: &str) -> String {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {what} in the page"))
        + marker.len();
    html[start..]
        .split(end)
        .next()
        .unwrap_or_default()
        .to_owned()
}
