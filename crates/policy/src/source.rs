//! Positions in the policy text: byte offsets to 1-based line:column, and where each
//! route and field was written (used to put line numbers on lint warnings).

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

/// Maps byte offsets of one text to line:column.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { text, line_starts }
    }

    /// The position of a byte offset; offsets past the end are clamped to the end.
    pub(crate) fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let column = match self.text.get(start..offset) {
            Some(prefix) => prefix.chars().count(),
            None => offset - start,
        };
        Pos {
            line: line.max(1),
            column: column + 1,
        }
    }
}

/// Where each route and each of its fields starts in the text.
#[derive(Debug, Default)]
pub(crate) struct SourceMap {
    routes: Vec<RouteSpans>,
}

#[derive(Debug, Default)]
struct RouteSpans {
    at: Option<Pos>,
    fields: Vec<(&'static str, Pos)>,
}

impl SourceMap {
    /// Records the next route (routes are recorded in file order).
    pub(crate) fn push_route(&mut self, at: Option<Pos>) {
        self.routes.push(RouteSpans {
            at,
            fields: Vec::new(),
        });
    }

    /// Records where a field of the most recently pushed route was written.
    pub(crate) fn push_field(&mut self, field: &'static str, at: Option<Pos>) {
        if let (Some(route), Some(at)) = (self.routes.last_mut(), at) {
            route.fields.push((field, at));
        }
    }

    /// Where `field` of route `index` was written, else where the route was.
    pub(crate) fn locate(&self, index: usize, field: Option<&str>) -> Option<Pos> {
        let route = self.routes.get(index)?;
        field
            .and_then(|name| {
                route
                    .fields
                    .iter()
                    .find(|(f, _)| *f == name)
                    .map(|(_, p)| *p)
            })
            .or(route.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_one_based_lines_and_char_columns() {
        let index = LineIndex::new("ab\nçd\r\nx");
        assert_eq!(index.pos(0), Pos { line: 1, column: 1 });
        assert_eq!(index.pos(2), Pos { line: 1, column: 3 });
        assert_eq!(index.pos(3), Pos { line: 2, column: 1 });
        // 'ç' is two bytes but one column.
        assert_eq!(index.pos(5), Pos { line: 2, column: 2 });
        assert_eq!(index.pos(8), Pos { line: 3, column: 1 });
        assert_eq!(index.pos(999), Pos { line: 3, column: 2 });
    }

    #[test]
    fn offsets_inside_a_character_do_not_panic() {
        let index = LineIndex::new("ç");
        assert_eq!(index.pos(1).line, 1);
    }

    #[test]
    fn fields_fall_back_to_the_route() {
        let mut map = SourceMap::default();
        map.push_route(Some(Pos { line: 3, column: 1 }));
        map.push_field(
            "origins",
            Some(Pos {
                line: 5,
                column: 11,
            }),
        );
        assert_eq!(map.locate(0, Some("origins")).map(|p| p.line), Some(5));
        assert_eq!(map.locate(0, Some("methods")).map(|p| p.line), Some(3));
        assert_eq!(map.locate(1, None), None);
    }
}
