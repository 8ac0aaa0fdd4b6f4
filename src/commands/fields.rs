//! Typed TLV bodies: read documented tags into fields, keep everything else, and write them
//! back byte for byte.
//!
//! [`TlvFields`] takes the documented tags out of a decoded TLV list one by one; what is left
//! (unknown or repeated tags, zero-length values of non-text tags) becomes the body's `extra`
//! list, and the order the tags came in is kept as a [`WireOrder`]. [`TlvBuilder`] writes the
//! fields (checking each value against the tag table), then [`TlvBuilder::finish`] lays them
//! out in the recorded order, so decode → encode gives the same bytes; a body built in code
//! (empty order) is written in the documented order with `extra` at the end.

use chrono::NaiveDateTime;

use super::{DecodeError, DecodeErrorKind, InputError, TlvList};
use crate::protocol::tlv::{self, TlvNode, TlvValue, TlvWriter, Value};
use crate::protocol::types::{self, Decimal};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// A documented field with this tag (the next unused one).
    Field(u16),
    /// The next TLV of `extra`.
    Extra,
}

/// The order of the tags of a decoded body, so that encoding it again gives the same bytes.
///
/// It is a detail of the wire, not part of the value: any two orders compare equal.
#[derive(Debug, Clone, Default)]
pub struct WireOrder(Vec<Slot>);

impl PartialEq for WireOrder {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for WireOrder {}

impl WireOrder {
    /// Whether no order was recorded (the body was built in code).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A decoded TLV body from which documented tags are taken one by one.
#[derive(Debug, Clone)]
pub(crate) struct TlvFields {
    nodes: Vec<TlvNode>,
    offsets: Vec<usize>,
    taken: Vec<bool>,
}

fn value_error(field: &'static str, offset: usize, e: impl std::fmt::Display) -> DecodeError {
    DecodeError::new(DecodeErrorKind::Value, field, offset, e)
}

impl TlvFields {
    /// Parses `data` (the whole TLV body) starting at byte `base` of the command's DATA.
    pub(crate) fn parse(data: &[u8], base: usize, field: &'static str) -> Result<Self, DecodeError> {
        let list = TlvList::parse(data).map_err(|e| DecodeError::new(DecodeErrorKind::Tlv, field, base, e))?;
        Ok(Self::from_nodes(list.0, base))
    }

    fn from_nodes(nodes: Vec<TlvNode>, base: usize) -> Self {
        let mut offsets = Vec::with_capacity(nodes.len());
        let mut at = base;
        for n in &nodes {
            offsets.push(at);
            at += tlv::HEADER + n.value_len();
        }
        let taken = vec![false; nodes.len()];
        Self { nodes, offsets, taken }
    }

    /// Takes the first unused leaf with `tag` (a zero-length one only if `empty_ok`).
    fn take_raw(&mut self, tag: u16, empty_ok: bool) -> Option<(usize, Vec<u8>)> {
        let i = self.nodes.iter().enumerate().position(|(i, n)| {
            !self.taken[i] && n.tag == tag && matches!(&n.value, TlvValue::Raw(v) if empty_ok || !v.is_empty())
        })?;
        self.taken[i] = true;
        match &self.nodes[i].value {
            TlvValue::Raw(v) => Some((self.offsets[i], v.clone())),
            TlvValue::Nested(_) => None,
        }
    }

    /// Text (cp866), as on the wire; a zero-length TLV is `Some("")`.
    pub(crate) fn string(&mut self, tag: u16) -> Option<String> {
        self.take_raw(tag, true).map(|(_, v)| types::decode_cp866(&v).into_owned())
    }

    /// Every TLV with `tag`, as text.
    pub(crate) fn strings(&mut self, tag: u16) -> Vec<String> {
        std::iter::from_fn(|| self.string(tag)).collect()
    }

    /// Raw bytes; a zero-length TLV is `Some([])`.
    pub(crate) fn bytes(&mut self, tag: u16) -> Option<Vec<u8>> {
        self.take_raw(tag, true).map(|(_, v)| v)
    }

    fn typed<T>(
        &mut self,
        tag: u16,
        field: &'static str,
        f: impl FnOnce(&[u8]) -> Result<T, types::TypeError>,
    ) -> Result<Option<T>, DecodeError> {
        match self.take_raw(tag, false) {
            None => Ok(None),
            Some((at, v)) => f(&v).map(Some).map_err(|e| value_error(field, at, format!("tag {tag}: {e}"))),
        }
    }

    /// A BYTE, as a number or a wire enumeration (zero-length TLVs are left in `extra`).
    pub(crate) fn byte<T: From<u8>>(&mut self, tag: u16, field: &'static str) -> Result<Option<T>, DecodeError> {
        Ok(self.typed(tag, field, types::decode_byte)?.map(T::from))
    }

    /// A UINT16.
    pub(crate) fn u16(&mut self, tag: u16, field: &'static str) -> Result<Option<u16>, DecodeError> {
        self.typed(tag, field, types::decode_u16)
    }

    /// A UINT32.
    pub(crate) fn u32(&mut self, tag: u16, field: &'static str) -> Result<Option<u32>, DecodeError> {
        self.typed(tag, field, types::decode_u32)
    }

    /// A VLN (money in kopecks). A value not written in the fewest bytes is read too, and
    /// written back minimally.
    pub(crate) fn vln(&mut self, tag: u16, field: &'static str) -> Result<Option<u64>, DecodeError> {
        self.typed(tag, field, types::decode_vln)
    }

    /// A FVLN.
    pub(crate) fn fvln(&mut self, tag: u16, field: &'static str) -> Result<Option<Decimal>, DecodeError> {
        self.typed(tag, field, types::decode_fvln)
    }

    /// A UNIXTIME.
    pub(crate) fn unixtime(&mut self, tag: u16, field: &'static str) -> Result<Option<NaiveDateTime>, DecodeError> {
        self.typed(tag, field, types::decode_unixtime)
    }

    /// Every STLV with `tag`, each as its own body.
    pub(crate) fn stlvs(&mut self, tag: u16) -> Vec<TlvFields> {
        let mut out = Vec::new();
        for i in 0..self.nodes.len() {
            if self.taken[i] || self.nodes[i].tag != tag {
                continue;
            }
            if let TlvValue::Nested(children) = &self.nodes[i].value {
                self.taken[i] = true;
                out.push(TlvFields::from_nodes(children.clone(), self.offsets[i] + tlv::HEADER));
            }
        }
        out
    }

    /// What was not taken (in wire order), and the order of everything.
    pub(crate) fn finish(self) -> (TlvList, WireOrder) {
        let mut extra = Vec::new();
        let mut order = Vec::with_capacity(self.nodes.len());
        for (n, taken) in self.nodes.into_iter().zip(self.taken) {
            if taken {
                order.push(Slot::Field(n.tag));
            } else {
                order.push(Slot::Extra);
                extra.push(n);
            }
        }
        (TlvList(extra), WireOrder(order))
    }
}

/// A required field: an error naming it when the tag is missing.
pub(crate) fn required<T>(v: Option<T>, tag: u16, field: &'static str) -> Result<T, DecodeError> {
    v.ok_or_else(|| value_error(field, 0, format!("tag {tag} missing")))
}

/// Writes a body's fields, checking each against the tag table, then lays them out.
#[derive(Debug, Default, Clone)]
pub(crate) struct TlvBuilder {
    entries: Vec<(u16, Vec<u8>)>,
}

fn tag_error(field: &'static str) -> impl Fn(crate::protocol::tlv::TagValueError) -> InputError {
    move |e| InputError::new(field, e.to_string())
}

impl TlvBuilder {
    /// Nothing written yet.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, tag: u16, field: &'static str, v: &Value) -> Result<&mut Self, InputError> {
        let mut w = TlvWriter::new();
        w.value(tag, v).map_err(tag_error(field))?;
        self.entries.push((tag, w.into_bytes()));
        Ok(self)
    }

    /// Text in cp866 (length checked against the tag table).
    pub(crate) fn string(&mut self, tag: u16, field: &'static str, s: &str) -> Result<&mut Self, InputError> {
        self.push(tag, field, &Value::String(s.to_string()))
    }

    /// Optional text.
    pub(crate) fn opt_string(
        &mut self,
        tag: u16,
        field: &'static str,
        s: &Option<String>,
    ) -> Result<&mut Self, InputError> {
        match s {
            Some(s) => self.string(tag, field, s),
            None => Ok(self),
        }
    }

    /// Repeated text.
    pub(crate) fn strings(&mut self, tag: u16, field: &'static str, v: &[String]) -> Result<&mut Self, InputError> {
        for s in v {
            self.string(tag, field, s)?;
        }
        Ok(self)
    }

    /// Raw bytes.
    pub(crate) fn bytes(&mut self, tag: u16, field: &'static str, b: &[u8]) -> Result<&mut Self, InputError> {
        self.push(tag, field, &Value::Bytes(b.to_vec()))
    }

    /// Optional raw bytes.
    pub(crate) fn opt_bytes(
        &mut self,
        tag: u16,
        field: &'static str,
        b: &Option<Vec<u8>>,
    ) -> Result<&mut Self, InputError> {
        match b {
            Some(b) => self.bytes(tag, field, b),
            None => Ok(self),
        }
    }

    /// A BYTE: a number or a wire enumeration.
    pub(crate) fn byte(&mut self, tag: u16, field: &'static str, v: impl Into<u8>) -> Result<&mut Self, InputError> {
        self.push(tag, field, &Value::Byte(v.into()))
    }

    /// An optional BYTE.
    pub(crate) fn opt_byte<T: Into<u8>>(
        &mut self,
        tag: u16,
        field: &'static str,
        v: Option<T>,
    ) -> Result<&mut Self, InputError> {
        match v {
            Some(v) => self.byte(tag, field, v),
            None => Ok(self),
        }
    }

    /// A UINT16.
    pub(crate) fn u16(&mut self, tag: u16, field: &'static str, v: u16) -> Result<&mut Self, InputError> {
        self.push(tag, field, &Value::U16(v))
    }

    /// A UINT32.
    pub(crate) fn u32(&mut self, tag: u16, field: &'static str, v: u32) -> Result<&mut Self, InputError> {
        self.push(tag, field, &Value::U32(v))
    }

    /// A VLN (money in kopecks).
    pub(crate) fn vln(&mut self, tag: u16, field: &'static str, v: u64) -> Result<&mut Self, InputError> {
        self.push(tag, field, &Value::Vln(v))
    }

    /// An optional VLN.
    pub(crate) fn opt_vln(&mut self, tag: u16, field: &'static str, v: Option<u64>) -> Result<&mut Self, InputError> {
        match v {
            Some(v) => self.vln(tag, field, v),
            None => Ok(self),
        }
    }

    /// A FVLN.
    pub(crate) fn fvln(&mut self, tag: u16, field: &'static str, v: Decimal) -> Result<&mut Self, InputError> {
        self.push(tag, field, &Value::Fvln(v))
    }

    /// A UNIXTIME.
    pub(crate) fn unixtime(
        &mut self,
        tag: u16,
        field: &'static str,
        t: NaiveDateTime,
    ) -> Result<&mut Self, InputError> {
        self.push(tag, field, &Value::UnixTime(t))
    }

    /// An STLV whose body `inner` wrote (laid out by its own order).
    pub(crate) fn stlv(
        &mut self,
        tag: u16,
        field: &'static str,
        inner: TlvBuilder,
        extra: &TlvList,
        order: &WireOrder,
    ) -> Result<&mut Self, InputError> {
        let mut body = Vec::new();
        inner.finish(extra, order, &mut body);
        let mut w = TlvWriter::new();
        w.raw(tag, &body).map_err(tag_error(field))?;
        self.entries.push((tag, w.into_bytes()));
        Ok(self)
    }

    /// Appends the body to `out`: in `order` when one was recorded, then whatever it does not
    /// place (fields in the order written, then `extra`).
    pub(crate) fn finish(self, extra: &TlvList, order: &WireOrder, out: &mut Vec<u8>) {
        let mut used = vec![false; self.entries.len()];
        let extras: Vec<Vec<u8>> = extra
            .0
            .iter()
            .map(|n| {
                let mut b = Vec::new();
                n.encode(&mut b);
                b
            })
            .collect();
        let mut next_extra = 0;
        for slot in &order.0 {
            match *slot {
                Slot::Field(tag) => {
                    if let Some(i) = (0..self.entries.len()).find(|&i| !used[i] && self.entries[i].0 == tag) {
                        used[i] = true;
                        out.extend_from_slice(&self.entries[i].1);
                    }
                }
                Slot::Extra => {
                    if let Some(b) = extras.get(next_extra) {
                        out.extend_from_slice(b);
                        next_extra += 1;
                    }
                }
            }
        }
        for (i, (_, b)) in self.entries.iter().enumerate() {
            if !used[i] {
                out.extend_from_slice(b);
            }
        }
        for b in &extras[next_extra..] {
            out.extend_from_slice(b);
        }
    }
}

/// A TLV body or a group of tags declared with `tlv_body!`: how its fields are read from a
/// decoded TLV list and written to a [`TlvBuilder`]. The declaration is the only place that
/// says which tag a field is, so the struct, its docs, decode and encode cannot disagree.
pub(crate) trait TlvBody: Sized {
    /// What the layout needs beyond the data (the tags of a report's additional requisite), or
    /// `()`.
    type Ctx: Copy;
    /// Takes the fields out of `f` (what is left stays there).
    fn read_fields(f: &mut TlvFields, ctx: Self::Ctx) -> Result<Self, DecodeError>;
    /// Writes the fields (each value checked against the tag table).
    fn write_fields(&self, b: &mut TlvBuilder, ctx: Self::Ctx) -> Result<(), InputError>;
}

/// A body that keeps what its layout does not name (`extra`) and the order its tags came in.
pub(crate) trait TlvRest {
    /// The tags the layout does not name and the recorded order.
    fn rest(&self) -> (&TlvList, &WireOrder);
    /// Sets them after a decode.
    fn set_rest(&mut self, extra: TlvList, order: WireOrder);
}

/// A body from the fields of a decoded list; what it does not take becomes its `extra`.
pub(crate) fn from_fields<T: TlvBody + TlvRest>(mut f: TlvFields, ctx: T::Ctx) -> Result<T, DecodeError> {
    let mut v = T::read_fields(&mut f, ctx)?;
    let (extra, order) = f.finish();
    v.set_rest(extra, order);
    Ok(v)
}

/// Decodes a command's DATA that is one TLV body.
pub(crate) fn decode_body<T: TlvBody + TlvRest>(data: &[u8], ctx: T::Ctx) -> Result<T, DecodeError> {
    from_fields(TlvFields::parse(data, 0, "tlv")?, ctx)
}

/// Encodes a body as a command's DATA: in its recorded order, then its `extra`.
pub(crate) fn encode_body<T: TlvBody + TlvRest>(v: &T, ctx: T::Ctx, out: &mut Vec<u8>) -> Result<(), InputError> {
    let mut b = TlvBuilder::new();
    v.write_fields(&mut b, ctx)?;
    let (extra, order) = v.rest();
    b.finish(extra, order, out);
    Ok(())
}

/// Every STLV `tag` of `f`, each read as a body.
pub(crate) fn read_stlvs<T: TlvBody<Ctx = ()> + TlvRest>(f: &mut TlvFields, tag: u16) -> Result<Vec<T>, DecodeError> {
    f.stlvs(tag).into_iter().map(|s| from_fields(s, ())).collect()
}

/// The one STLV `tag` of `f` (an error naming `field` when there is none or more than one).
pub(crate) fn read_one_stlv<T: TlvBody<Ctx = ()> + TlvRest>(
    f: &mut TlvFields,
    tag: u16,
    field: &'static str,
) -> Result<T, DecodeError> {
    let mut all = f.stlvs(tag).into_iter();
    match (all.next(), all.next()) {
        (Some(one), None) => from_fields(one, ()),
        _ => Err(value_error(field, 0, format!("exactly one STLV {tag} expected"))),
    }
}

/// Writes `v` as the STLV `tag`.
pub(crate) fn write_stlv<T: TlvBody<Ctx = ()> + TlvRest>(
    b: &mut TlvBuilder,
    tag: u16,
    field: &'static str,
    v: &T,
) -> Result<(), InputError> {
    let mut inner = TlvBuilder::new();
    v.write_fields(&mut inner, ())?;
    let (extra, order) = v.rest();
    b.stlv(tag, field, inner, extra, order)?;
    Ok(())
}

/// Whether a kept TLV list is empty (for `skip_serializing_if`).
pub(crate) fn is_empty_list(l: &TlvList) -> bool {
    l.0.is_empty()
}

/// Declares a TLV body once: the struct with its docs and serde attributes, which tag each
/// field is and how, and from that its [`TlvBody`] (decode and encode) and, for a `struct`,
/// the `extra` and `order` fields that keep what the layout does not name byte for byte
/// ([`TlvRest`]). A `group` is a set of tags read into and written from the enclosing body
/// (`flat()` there), without `extra` of its own.
///
/// Each field is `name: Type = HOW`, where HOW is
/// * `required CODEC(TAG)`, `optional CODEC(TAG)` (an `Option`), `repeated string(TAG)` (a
///   `Vec`), with CODEC one of `string`, `bytes`, `byte` (a number or a wire enumeration),
///   `u16`, `u32`, `vln`, `fvln`, `unixtime`;
/// * `required stlv(TAG)` (exactly one), `repeated stlv(TAG)`: nested bodies;
/// * `flat()`: a group's tags in this body;
/// * `custom(read, write)`: `fn read(&mut TlvFields) -> Result<T, DecodeError>` and
///   `fn write(&mut TlvBuilder, &T) -> Result<(), InputError>`;
/// * `skip()`: not on the wire (default on decode).
///
/// then optionally `as "field.name"` (the name errors give; the field's own by default) and
/// `via f` for a text: `f(field, &str) -> Result<String, InputError>` checks and normalises it
/// before it is written (INN padding, country codes). Fields are written in the declared order
/// (a decoded body: in the order it came). The body can take a context, `struct Name(tags:
/// (u16, u16))`, whose name the tags may use.
macro_rules! tlv_body {
    (
        $(#[$m:meta])*
        $vis:vis struct $name:ident $(($ctx:ident: $cty:ty))? {
            $(
                $(#[$fm:meta])*
                $field:ident: $ty:ty = $kind:ident $($codec:ident)? ($($arg:tt)*) $(as $fname:literal)? $(via $via:path)?
            ),* $(,)?
        }
    ) => {
        $(#[$m])*
        $vis struct $name {
            $(
                $(#[$fm])*
                #[doc = concat!("\n\n", $crate::commands::fields::tlv_body!(@doc $kind $($codec)? ($($arg)*)))]
                pub $field: $ty,
            )*
            /// Tags the layout does not name (and zero-length values of number tags), kept as sent.
            #[serde(skip_serializing_if = "crate::commands::fields::is_empty_list")]
            pub extra: $crate::commands::TlvList,
            /// The tag order of a decoded body (re-encoding keeps it); `Default` for a new one.
            #[serde(skip)]
            pub order: $crate::commands::fields::WireOrder,
        }

        impl $crate::commands::fields::TlvRest for $name {
            fn rest(&self) -> (&$crate::commands::TlvList, &$crate::commands::fields::WireOrder) {
                (&self.extra, &self.order)
            }
            fn set_rest(&mut self, extra: $crate::commands::TlvList, order: $crate::commands::fields::WireOrder) {
                self.extra = extra;
                self.order = order;
            }
        }

        $crate::commands::fields::tlv_body!(@impl $name [$($ctx: $cty)?]
            { $($field = $kind $($codec)? ($($arg)*) [$($fname)?] [$($via)?]),* }
            { extra: Default::default(), order: Default::default(), });
    };
    (
        $(#[$m:meta])*
        $vis:vis group $name:ident $(($ctx:ident: $cty:ty))? {
            $(
                $(#[$fm:meta])*
                $field:ident: $ty:ty = $kind:ident $($codec:ident)? ($($arg:tt)*) $(as $fname:literal)? $(via $via:path)?
            ),* $(,)?
        }
    ) => {
        $(#[$m])*
        $vis struct $name {
            $(
                $(#[$fm])*
                #[doc = concat!("\n\n", $crate::commands::fields::tlv_body!(@doc $kind $($codec)? ($($arg)*)))]
                pub $field: $ty,
            )*
        }

        $crate::commands::fields::tlv_body!(@impl $name [$($ctx: $cty)?]
            { $($field = $kind $($codec)? ($($arg)*) [$($fname)?] [$($via)?]),* } {});
    };

    (@impl $name:ident [$($ctx:ident: $cty:ty)?]
        { $($field:ident = $kind:ident $($codec:ident)? ($($arg:tt)*) [$($fname:literal)?] [$($via:path)?]),* }
        { $($rest:tt)* }
    ) => {
        impl $crate::commands::fields::TlvBody for $name {
            type Ctx = $crate::commands::fields::tlv_body!(@cty $($cty)?);

            fn read_fields(
                f: &mut $crate::commands::fields::TlvFields,
                $crate::commands::fields::tlv_body!(@pat $($ctx)?): Self::Ctx,
            ) -> Result<Self, $crate::commands::DecodeError> {
                Ok(Self {
                    $($field: $crate::commands::fields::tlv_body!(@read f
                        ($crate::commands::fields::tlv_body!(@name $field [$($fname)?])); $kind $($codec)? ($($arg)*)),)*
                    $($rest)*
                })
            }

            fn write_fields(
                &self,
                b: &mut $crate::commands::fields::TlvBuilder,
                $crate::commands::fields::tlv_body!(@pat $($ctx)?): Self::Ctx,
            ) -> Result<(), $crate::commands::InputError> {
                $($crate::commands::fields::tlv_body!(@write b self.$field,
                    ($crate::commands::fields::tlv_body!(@name $field [$($fname)?])); $kind $($codec)? ($($arg)*) [$($via)?]);)*
                Ok(())
            }
        }
    };

    (@cty) => { () };
    (@cty $t:ty) => { $t };
    (@pat) => { _ };
    (@pat $c:ident) => { $c };
    (@name $field:ident []) => { stringify!($field) };
    (@name $field:ident [$n:literal]) => { $n };

    (@doc flat ()) => { "Its tags are this body's." };
    (@doc skip ()) => { "Not one of the body's own tags (the command reads and writes it)." };
    (@doc custom ($($a:tt)*)) => { concat!("Read and written by `", stringify!($($a)*), "`.") };
    (@doc $kind:ident $codec:ident ($($t:tt)*)) => {
        concat!("TLV `", stringify!($($t)*), "`: ", stringify!($kind), " ", stringify!($codec), ".")
    };

    (@read $f:ident ($n:expr); required string($t:expr)) => {
        $crate::commands::fields::required($f.string($t), $t, $n)?
    };
    (@read $f:ident ($n:expr); optional string($t:expr)) => { $f.string($t) };
    (@read $f:ident ($n:expr); repeated string($t:expr)) => { $f.strings($t) };
    (@read $f:ident ($n:expr); required bytes($t:expr)) => {
        $crate::commands::fields::required($f.bytes($t), $t, $n)?
    };
    (@read $f:ident ($n:expr); optional bytes($t:expr)) => { $f.bytes($t) };
    (@read $f:ident ($n:expr); required stlv($t:expr)) => { $crate::commands::fields::read_one_stlv($f, $t, $n)? };
    (@read $f:ident ($n:expr); repeated stlv($t:expr)) => { $crate::commands::fields::read_stlvs($f, $t)? };
    (@read $f:ident ($n:expr); required $codec:ident($t:expr)) => {
        $crate::commands::fields::required($f.$codec($t, $n)?, $t, $n)?
    };
    (@read $f:ident ($n:expr); optional $codec:ident($t:expr)) => { $f.$codec($t, $n)? };
    (@read $f:ident ($n:expr); flat()) => { $crate::commands::fields::TlvBody::read_fields($f, ())? };
    (@read $f:ident ($n:expr); custom($r:path, $w:path)) => { $r($f)? };
    (@read $f:ident ($n:expr); skip()) => { Default::default() };

    (@write $b:ident $v:expr, ($n:expr); required string($t:expr) []) => { $b.string($t, $n, &$v)?; };
    (@write $b:ident $v:expr, ($n:expr); required string($t:expr) [$via:path]) => {
        $b.string($t, $n, &$via($n, &$v)?)?;
    };
    (@write $b:ident $v:expr, ($n:expr); optional string($t:expr) []) => { $b.opt_string($t, $n, &$v)?; };
    (@write $b:ident $v:expr, ($n:expr); optional string($t:expr) [$via:path]) => {
        $b.opt_string($t, $n, &$v.as_deref().map(|s| $via($n, s)).transpose()?)?;
    };
    (@write $b:ident $v:expr, ($n:expr); repeated string($t:expr) []) => { $b.strings($t, $n, &$v)?; };
    (@write $b:ident $v:expr, ($n:expr); repeated string($t:expr) [$via:path]) => {
        $b.strings($t, $n, &$v.iter().map(|s| $via($n, s)).collect::<Result<Vec<_>, _>>()?)?;
    };
    (@write $b:ident $v:expr, ($n:expr); required bytes($t:expr) []) => { $b.bytes($t, $n, &$v)?; };
    (@write $b:ident $v:expr, ($n:expr); optional bytes($t:expr) []) => { $b.opt_bytes($t, $n, &$v)?; };
    (@write $b:ident $v:expr, ($n:expr); required byte($t:expr) []) => { $b.byte($t, $n, $v)?; };
    (@write $b:ident $v:expr, ($n:expr); optional byte($t:expr) []) => { $b.opt_byte($t, $n, $v)?; };
    (@write $b:ident $v:expr, ($n:expr); required stlv($t:expr) []) => {
        $crate::commands::fields::write_stlv($b, $t, $n, &$v)?;
    };
    (@write $b:ident $v:expr, ($n:expr); repeated stlv($t:expr) []) => {
        for x in &$v {
            $crate::commands::fields::write_stlv($b, $t, $n, x)?;
        }
    };
    (@write $b:ident $v:expr, ($n:expr); required $codec:ident($t:expr) []) => { $b.$codec($t, $n, $v)?; };
    (@write $b:ident $v:expr, ($n:expr); optional $codec:ident($t:expr) []) => {
        if let Some(x) = $v {
            $b.$codec($t, $n, x)?;
        }
    };
    (@write $b:ident $v:expr, ($n:expr); flat() []) => { $crate::commands::fields::TlvBody::write_fields(&$v, $b, ())?; };
    (@write $b:ident $v:expr, ($n:expr); custom($r:path, $w:path) []) => { $w($b, &$v)?; };
    (@write $b:ident $v:expr, ($n:expr); skip() []) => {};
}
pub(crate) use tlv_body;

/// A value of a wire enumeration that its declaration names (what the register accepts).
pub(crate) fn check_known<T: crate::protocol::values::WireEnum>(field: &'static str, v: T) -> Result<(), InputError> {
    if v.known() {
        Ok(())
    } else {
        let codes: Vec<u32> = T::ALL.iter().map(|v| v.wire()).collect();
        Err(InputError::new(field, format!("{} is not one of {codes:?}", v.wire())))
    }
}

/// Checks a text against a limit a command sets below the tag table's (cp866 holds one byte a
/// character).
pub(crate) fn max_chars(field: &'static str, s: Option<&str>, max: usize) -> Result<(), InputError> {
    match s.map(|s| s.chars().count()) {
        Some(n) if n > max => Err(InputError::new(field, format!("{n} characters is longer than the limit of {max}"))),
        _ => Ok(()),
    }
}

/// Checks an enumeration value against its allowed set.
pub(crate) fn check_enum(field: &'static str, v: u8, allowed: &[u8]) -> Result<(), InputError> {
    if allowed.contains(&v) {
        Ok(())
    } else {
        Err(InputError::new(field, format!("{v} is not one of {allowed:?}")))
    }
}

/// Checks a bit mask against the bits it may have.
pub(crate) fn check_mask(field: &'static str, v: u8, allowed: u8) -> Result<(), InputError> {
    if v & !allowed == 0 {
        Ok(())
    } else {
        Err(InputError::new(field, format!("bits {:#04x} are not defined (allowed mask {allowed:#04x})", v & !allowed)))
    }
}

/// An INN as the device takes it: 10 or 12 digits, padded with spaces to 12. A value that
/// is already padded (or all spaces, as some registers send for "no INN") is kept as it is.
pub(crate) fn inn(field: &'static str, s: &str) -> Result<String, InputError> {
    let digits = s.trim_end_matches(' ');
    if s.len() > 12
        || !(digits.is_empty() || (matches!(digits.len(), 10 | 12) && digits.bytes().all(|b| b.is_ascii_digit())))
    {
        return Err(InputError::new(field, format!("{s:?} is not an INN of 10 or 12 digits (12 characters at most)")));
    }
    if s.is_empty() {
        return Ok(String::new());
    }
    Ok(format!("{s:<12}"))
}

/// An INN that must be a person's: 12 digits (or spaces/empty for "none").
pub(crate) fn person_inn(field: &'static str, s: &str) -> Result<String, InputError> {
    let digits = s.trim_end_matches(' ');
    if !digits.is_empty() && digits.len() != 12 {
        return Err(InputError::new(field, format!("{s:?}: must be exactly 12 digits")));
    }
    inn(field, s)
}

/// Text padded with spaces on the right to `n` characters (country codes); empty stays empty.
pub(crate) fn pad_right(field: &'static str, s: &str, n: usize) -> Result<String, InputError> {
    let len = s.chars().count();
    if len > n {
        return Err(InputError::new(field, format!("{len} characters is longer than the limit of {n}")));
    }
    if s.is_empty() {
        return Ok(String::new());
    }
    Ok(format!("{s:<n$}"))
}

/// A date written DD.MM.YYYY (or empty).
pub(crate) fn dd_mm_yyyy(field: &'static str, s: &str) -> Result<(), InputError> {
    if s.is_empty() || chrono::NaiveDate::parse_from_str(s, "%d.%m.%Y").is_ok() && s.len() == 10 {
        Ok(())
    } else {
        Err(InputError::new(field, format!("{s:?} is not a date written DD.MM.YYYY")))
    }
}

/// Checks that two optional values are given together (e.g. tags 1276 and 1277).
pub(crate) fn both_or_neither<A, B>(field: &'static str, a: &Option<A>, b: &Option<B>) -> Result<(), InputError> {
    if a.is_some() == b.is_some() {
        Ok(())
    } else {
        Err(InputError::new(field, "the requisite and its data are given together or not at all"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_extra_roundtrip() {
        // 1021 "A", unknown 7777 = 01, zero-length 1229 (VLN), 1009 "B".
        let data = hex::decode("FD030100 41 611E0100 01 CD040000 F1030100 42".replace(' ', "")).unwrap();
        let mut f = TlvFields::parse(&data, 0, "tlv").unwrap();
        let b = f.string(1009).unwrap();
        let a = f.string(1021).unwrap();
        assert_eq!(f.vln(1229, "excise").unwrap(), None);
        let (extra, order) = f.finish();
        assert_eq!(extra.0.len(), 2);
        let mut w = TlvBuilder::new();
        w.string(1009, "b", &b).unwrap().string(1021, "a", &a).unwrap();
        let mut out = Vec::new();
        w.clone().finish(&extra, &order, &mut out);
        assert_eq!(out, data);
        // Built in code: fields first, then extra.
        let mut out = Vec::new();
        w.finish(&extra, &WireOrder::default(), &mut out);
        assert_eq!(hex::encode_upper(&out), "F103010042FD030100 41611E010001CD040000".replace(' ', ""));
    }

    use crate::commands::receipt::{read_fraction, write_fraction};
    use crate::protocol::tag;
    use crate::protocol::tlv::TlvWriter;
    use crate::protocol::values::Vat;
    use proptest::prelude::*;

    tlv_body! {
        /// A group of the test body's tags.
        #[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
        group Group {
            /// A byte read into the enclosing body.
            code: Option<u8> = optional byte(tag::ITEM_AGENT_TYPE) as "group.code",
        }
    }

    tlv_body! {
        /// A nested body.
        #[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
        struct Inner {
            /// A byte.
            authority: u8 = required byte(tag::FEDERAL_AUTHORITY_ID) as "inner.authority",
            /// A text.
            value: String = required string(tag::INDUSTRY_REQUISITE_VALUE),
        }
    }

    tlv_body! {
        /// A body with every kind of field, and a tag its user chooses.
        #[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
        struct Every(chosen: u16) {
            /// Required text.
            name: String = required string(tag::CASHIER_NAME),
            /// Optional text, normalised before it is written.
            inn: Option<String> = optional string(tag::CASHIER_INN) via inn,
            /// Repeated text.
            phones: Vec<String> = repeated string(tag::SUPPLIER_PHONE),
            /// Optional bytes.
            data: Option<Vec<u8>> = optional bytes(tag::REGISTRATION_REPORT_EXTRA_DATA),
            /// A wire enumeration.
            vat: Vat = required byte(tag::VAT_RATE),
            /// UINT16.
            port: Option<u16> = optional u16(tag::OFD_TCP_PORT),
            /// UINT32.
            fd: Option<u32> = optional u32(tag::FD_NUMBER),
            /// VLN.
            price: u64 = required vln(tag::UNIT_PRICE),
            /// FVLN.
            quantity: Option<Decimal> = optional fvln(tag::QUANTITY),
            /// UNIXTIME.
            when: Option<NaiveDateTime> = optional unixtime(tag::DATETIME),
            /// The tag the context names.
            chosen_text: Option<String> = optional string(chosen),
            /// A group.
            group: Group = flat(),
            /// Repeated STLVs.
            inner: Vec<Inner> = repeated stlv(tag::INDUSTRY_ITEM_REQUISITE),
            /// Exactly one STLV.
            basis: Inner = required stlv(tag::CORRECTION_BASIS),
            /// Two tags read and written by hand.
            pair: Option<(u32, u32)> = custom(read_fraction, write_fraction),
            /// Not on the wire.
            note: String = skip(),
        }
    }

    const CHOSEN: u16 = tag::SHIFT_OPEN_REPORT_EXTRA_REQUISITE;

    fn every() -> Every {
        Every {
            name: "Ivanov".into(),
            inn: Some("7740000076".into()),
            phones: vec!["+7900".into(), "+7901".into()],
            data: Some(vec![1, 2]),
            vat: Vat::VAT10,
            port: Some(7777),
            fd: Some(12),
            price: 4550,
            quantity: Some(Decimal::new(1500, 3)),
            when: chrono::NaiveDate::from_ymd_opt(2024, 1, 2).unwrap().and_hms_opt(3, 4, 5),
            chosen_text: Some("x".into()),
            group: Group { code: Some(4) },
            inner: vec![Inner { authority: 30, value: "a".into(), ..Default::default() }],
            basis: Inner { authority: 1, value: "b".into(), ..Default::default() },
            pair: Some((1, 2)),
            ..Default::default()
        }
    }

    /// The same body written tag by tag with the plain TLV writer, in the declared order.
    fn every_bytes() -> Vec<u8> {
        let mut w = TlvWriter::new();
        w.string(tag::CASHIER_NAME, "Ivanov").unwrap();
        w.string(tag::CASHIER_INN, "7740000076  ").unwrap();
        w.string(tag::SUPPLIER_PHONE, "+7900").unwrap().string(tag::SUPPLIER_PHONE, "+7901").unwrap();
        w.raw(tag::REGISTRATION_REPORT_EXTRA_DATA, &[1, 2]).unwrap();
        w.byte(tag::VAT_RATE, 2).unwrap().u16(tag::OFD_TCP_PORT, 7777).unwrap().u32(tag::FD_NUMBER, 12).unwrap();
        w.vln(tag::UNIT_PRICE, 4550).unwrap().fvln(tag::QUANTITY, Decimal::new(1500, 3)).unwrap();
        w.value(tag::DATETIME, &Value::UnixTime(every().when.unwrap())).unwrap();
        w.string(CHOSEN, "x").unwrap().byte(tag::ITEM_AGENT_TYPE, 4).unwrap();
        w.stlv(tag::INDUSTRY_ITEM_REQUISITE, |w| {
            w.byte(tag::FEDERAL_AUTHORITY_ID, 30)?.string(tag::INDUSTRY_REQUISITE_VALUE, "a").map(|_| ())
        })
        .unwrap();
        w.stlv(tag::CORRECTION_BASIS, |w| {
            w.byte(tag::FEDERAL_AUTHORITY_ID, 1)?.string(tag::INDUSTRY_REQUISITE_VALUE, "b").map(|_| ())
        })
        .unwrap();
        w.u32(tag::FRACTION_NUMERATOR, 1).unwrap().u32(tag::FRACTION_DENOMINATOR, 2).unwrap();
        w.into_bytes()
    }

    #[test]
    fn a_declared_body_encodes_decodes_and_keeps_its_wire() {
        let v = every();
        let mut out = Vec::new();
        encode_body(&v, CHOSEN, &mut out).unwrap();
        assert_eq!(hex::encode_upper(&out), hex::encode_upper(every_bytes()), "declared order, `via` applied");
        let back: Every = decode_body(&out, CHOSEN).unwrap();
        assert_eq!(back, Every { inn: Some("7740000076  ".into()), ..v.clone() });
        assert!(back.extra.0.is_empty());
        // A body from the wire: its order, and tags it does not name (here inside the nested
        // STLV too), come back byte for byte.
        let mut w = TlvWriter::new();
        w.vln(tag::UNIT_PRICE, 1).unwrap().string(7777, "?").unwrap();
        w.stlv(tag::CORRECTION_BASIS, |w| {
            w.string(tag::INDUSTRY_REQUISITE_VALUE, "v")?.byte(7778, 9)?.byte(tag::FEDERAL_AUTHORITY_ID, 2).map(|_| ())
        })
        .unwrap();
        w.byte(tag::VAT_RATE, 0x63).unwrap().string(tag::CASHIER_NAME, "N").unwrap();
        let wire = w.into_bytes();
        let d: Every = decode_body(&wire, CHOSEN).unwrap();
        assert_eq!((d.name.as_str(), d.price, d.vat.code(), d.basis.authority), ("N", 1, 0x63, 2));
        assert_eq!(d.extra.raw(7777), Some(&b"?"[..]));
        assert_eq!(d.basis.extra.raw(7778), Some(&[9][..]));
        let mut again = Vec::new();
        encode_body(&d, CHOSEN, &mut again).unwrap();
        assert_eq!(again, wire, "decode → encode gives the same bytes");
        // With another context the chosen tag is another one.
        let other: Every = decode_body(&out, tag::SHIFT_CLOSE_REPORT_EXTRA_REQUISITE).unwrap();
        assert_eq!((other.chosen_text, other.extra.raw(CHOSEN)), (None, Some(&b"x"[..])));
    }

    #[test]
    fn a_declared_body_names_the_field() {
        let mut w = TlvWriter::new();
        w.vln(tag::UNIT_PRICE, 1).unwrap().byte(tag::VAT_RATE, 1).unwrap();
        let e = decode_body::<Every>(w.as_bytes(), CHOSEN).unwrap_err();
        assert_eq!((e.field, e.detail.as_str()), ("name", "tag 1021 missing"));
        w.string(tag::CASHIER_NAME, "N").unwrap();
        let e = decode_body::<Every>(w.as_bytes(), CHOSEN).unwrap_err();
        assert_eq!((e.field, e.detail.as_str()), ("basis", "exactly one STLV 1174 expected"));
        w.stlv(tag::CORRECTION_BASIS, |w| w.string(tag::INDUSTRY_REQUISITE_VALUE, "v").map(|_| ())).unwrap();
        assert_eq!(decode_body::<Every>(w.as_bytes(), CHOSEN).unwrap_err().field, "inner.authority");
        w.u32(tag::FRACTION_NUMERATOR, 1).unwrap();
        let mut wrong = w.clone().into_bytes();
        wrong.extend_from_slice(&[0x10, 0x04, 0x01, 0x00, 0x05]); // 1040 with one byte: not a UINT32
        let e = decode_body::<Every>(&wrong, CHOSEN).unwrap_err();
        assert_eq!((e.field, e.kind), ("fd", DecodeErrorKind::Value));
        for (bad, field) in [
            (Every { inn: Some("123".into()), ..every() }, "inn"),
            (Every { name: "x".repeat(65), ..every() }, "name"),
            (Every { phones: vec!["1".repeat(21)], ..every() }, "phones"),
            (Every { basis: Inner { value: "я".repeat(257), ..every().basis }, ..every() }, "value"),
        ] {
            assert_eq!(encode_body(&bad, CHOSEN, &mut Vec::new()).unwrap_err().field, field);
        }
    }

    fn text(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!("[ -~А-яЁё№]{{0,{max}}}")).unwrap()
    }

    proptest! {
        #[test]
        fn a_declared_body_roundtrips(
            name in text(64), phones in prop::collection::vec("[0-9+]{0,20}", 0..3),
            data in prop::option::of(prop::collection::vec(any::<u8>(), 0..32)), vat in any::<u8>(),
            port in prop::option::of(any::<u16>()), fd in prop::option::of(any::<u32>()), price in 0u64..(1 << 48),
            when in prop::option::of(0i64..4_000_000_000), chosen in prop::option::of(text(32)),
            code in prop::option::of(any::<u8>()), inner in prop::collection::vec((any::<u8>(), text(64)), 0..3),
            pair in prop::option::of((any::<u32>(), any::<u32>())),
        ) {
            let v = Every {
                name, phones, data, vat: vat.into(), port, fd, price,
                when: when.and_then(|s| chrono::DateTime::from_timestamp(s, 0)).map(|t| t.naive_utc()),
                chosen_text: chosen, group: Group { code },
                inner: inner.into_iter().map(|(authority, value)| Inner { authority, value, ..Default::default() }).collect(),
                pair,
                ..every()
            };
            let mut out = Vec::new();
            encode_body(&v, CHOSEN, &mut out).unwrap();
            let back: Every = decode_body(&out, CHOSEN).unwrap();
            prop_assert_eq!(&back, &Every { inn: Some("7740000076  ".into()), ..v });
            let mut again = Vec::new();
            encode_body(&back, CHOSEN, &mut again).unwrap();
            prop_assert_eq!(again, out);
        }
    }

    #[test]
    fn inn_rules() {
        assert_eq!(inn("inn", "7740000076").unwrap(), "7740000076  ");
        assert_eq!(inn("inn", "7740000076  ").unwrap(), "7740000076  ");
        assert_eq!(inn("inn", "").unwrap(), "");
        assert_eq!(inn("inn", "            ").unwrap(), "            ");
        assert!(inn("inn", "12345").is_err());
        assert!(inn("inn", "77400000761234").is_err());
        assert!(person_inn("inn", "7740000076").is_err());
        assert!(person_inn("inn", "774000007612").is_ok());
        assert!(dd_mm_yyyy("d", "01.02.2024").is_ok());
        assert!(dd_mm_yyyy("d", "1.2.2024").is_err());
        assert!(dd_mm_yyyy("d", "31.02.2024").is_err());
    }
}
