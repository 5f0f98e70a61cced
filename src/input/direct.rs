//! Typed decoding straight from the YAML parser's events, for the kinds prodready reads most.
//!
//! The reference reading of a document is two steps: YAML into a `serde_json::Value`, then the
//! value into the k8s-openapi type (`classify`). Building and freeing that intermediate tree
//! costs as much as a fifth of an audit. This module does the same in one step, and is exactly
//! as strict: every node is handed to the typed decoder the way a `serde_json::Value` holding
//! it would hand it (a YAML `123` is a number, never a string; keys are strings; NaN becomes
//! null), and subtrees the typed decoder skips are still checked to be representable as JSON.
//!
//! It only ever answers when the reference reading would have produced the same object; on any
//! doubt it answers `None` and the caller takes the reference path, which also writes every
//! error message. So bad documents are reported exactly as before, at the cost of reading them
//! twice.

use std::cell::Cell;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{ClusterResourceScope, Metadata, NamespaceResourceScope, Resource};
use serde::Deserialize;
use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess};
use serde::de::{Unexpected, Visitor};
use serde_json::{Number, Value};

use super::classify::Parsed;
use crate::workload::{WorkloadKind, WorkloadObject};
use crate::world::kinds::{self, DynamicKind, KindVisitor, TypedKind};

/// Reads one document as the object it declares, if its kind is one read here and it decodes
/// cleanly. `None` means: use the reference path.
pub fn decode(text: &str) -> Option<Parsed> {
    let (api_version, kind) = header(text)?;
    // The same kinds as `classify`, restricted to exact API versions: any other version takes
    // the reference path, which explains what is wrong with it.
    if let Some(workload) = WorkloadKind::from_kind(kind) {
        if workload.api_version() != api_version {
            return None;
        }
        let object = match workload {
            WorkloadKind::Deployment => WorkloadObject::Deployment(read(text)?),
            WorkloadKind::StatefulSet => WorkloadObject::StatefulSet(read(text)?),
            WorkloadKind::DaemonSet => WorkloadObject::DaemonSet(read(text)?),
            WorkloadKind::CronJob => WorkloadObject::CronJob(read(text)?),
            WorkloadKind::Job => WorkloadObject::Job(read(text)?),
            WorkloadKind::ReplicaSet => WorkloadObject::ReplicaSet(read(text)?),
            WorkloadKind::Pod => WorkloadObject::Pod(read(text)?),
        };
        return Some(Parsed::filed(object));
    }
    let group = api_version.split_once('/').map_or("", |(g, _)| g);
    kinds::visit_served(group, kind, &mut Direct { text, api_version })?
}

/// Reads a document as the related kind the table names, if it is a typed kind in exactly the
/// version the table reads (custom resources take the reference path).
struct Direct<'t> {
    text: &'t str,
    api_version: &'t str,
}

impl Direct<'_> {
    fn read<K: TypedKind>(&self) -> Option<Parsed> {
        if K::SERVED.api_version != self.api_version {
            return None;
        }
        let object: K = read(self.text)?;
        Some(Parsed::Related(Box::new(object.into())))
    }
}

impl KindVisitor for Direct<'_> {
    type Output = Option<Parsed>;

    fn namespaced<K: TypedKind<Scope = NamespaceResourceScope>>(&mut self) -> Self::Output {
        self.read::<K>()
    }

    fn cluster<K: TypedKind<Scope = ClusterResourceScope>>(&mut self) -> Self::Output {
        self.read::<K>()
    }

    fn dynamic<K: DynamicKind>(&mut self) -> Self::Output {
        None
    }
}

/// The `apiVersion` and `kind` a document declares on lines of their own at its top level, as
/// nearly every manifest writes them. Only a hint for choosing the type: `read` checks that the
/// document's top-level mapping really holds both, with exactly these values.
fn header(text: &str) -> Option<(&str, &str)> {
    let mut api_version = None;
    let mut kind = None;
    for line in text.lines() {
        let (slot, rest) = if let Some(rest) = line.strip_prefix("apiVersion:") {
            (&mut api_version, rest)
        } else if let Some(rest) = line.strip_prefix("kind:") {
            (&mut kind, rest)
        } else {
            continue;
        };
        let value = rest.trim_matches([' ', '\t', '\r']);
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        if value.is_empty()
            || !value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/' | b'-' | b'_'))
        {
            return None;
        }
        *slot = Some(value);
        if let (Some(a), Some(k)) = (api_version, kind) {
            return Some((a, k));
        }
    }
    None
}

/// The top-level keys `read` must see: the reference path requires both.
const SEEN_API_VERSION: u8 = 1;
const SEEN_KIND: u8 = 2;

/// Decodes a whole document as `K`. The k8s-openapi decoder itself refuses an `apiVersion` or
/// `kind` other than `K`'s; this adds that both were present, and that the object is named, as
/// `classify` requires.
fn read<K>(text: &str) -> Option<K>
where
    K: Resource + Metadata<Ty = ObjectMeta> + DeserializeOwned,
{
    let seen = Cell::new(0);
    let de = Strict {
        de: serde_yaml_ng::Deserializer::from_str(text),
        top: Some(&seen),
    };
    let object = K::deserialize(de).ok()?;
    let meta = object.metadata();
    let named = |n: &Option<String>| n.as_deref().is_some_and(|n| !n.is_empty());
    (seen.get() == SEEN_API_VERSION | SEEN_KIND
        && (named(&meta.name) || named(&meta.generate_name)))
    .then_some(object)
}

/// Which `deserialize_*` the typed decoder asked for, to be answered as a `serde_json::Value`
/// holding the node would answer it.
#[derive(Clone, Copy)]
enum Ask {
    Any,
    Bool,
    I8,
    I16,
    I32,
    I64,
    I128,
    U8,
    U16,
    U32,
    U64,
    U128,
    F32,
    F64,
    Char,
    Str,
    String,
    Bytes,
    ByteBuf,
    Option,
    Unit,
    UnitStruct(&'static str),
    Seq,
    Tuple(usize),
    TupleStruct(&'static str, usize),
    Map,
    Struct(&'static str, &'static [&'static str]),
    Enum(&'static str, &'static [&'static str]),
    Identifier,
}

/// Answers `ask` with a scalar node's JSON value: the very code the reference path runs.
fn replay<'de, V: Visitor<'de>>(
    value: Value,
    ask: Ask,
    visitor: V,
) -> Result<V::Value, serde_json::Error> {
    match ask {
        Ask::Any => value.deserialize_any(visitor),
        Ask::Bool => value.deserialize_bool(visitor),
        Ask::I8 => value.deserialize_i8(visitor),
        Ask::I16 => value.deserialize_i16(visitor),
        Ask::I32 => value.deserialize_i32(visitor),
        Ask::I64 => value.deserialize_i64(visitor),
        Ask::I128 => value.deserialize_i128(visitor),
        Ask::U8 => value.deserialize_u8(visitor),
        Ask::U16 => value.deserialize_u16(visitor),
        Ask::U32 => value.deserialize_u32(visitor),
        Ask::U64 => value.deserialize_u64(visitor),
        Ask::U128 => value.deserialize_u128(visitor),
        Ask::F32 => value.deserialize_f32(visitor),
        Ask::F64 => value.deserialize_f64(visitor),
        Ask::Char => value.deserialize_char(visitor),
        Ask::Str => value.deserialize_str(visitor),
        Ask::String => value.deserialize_string(visitor),
        Ask::Bytes => value.deserialize_bytes(visitor),
        Ask::ByteBuf => value.deserialize_byte_buf(visitor),
        Ask::Option => value.deserialize_option(visitor),
        Ask::Unit => value.deserialize_unit(visitor),
        Ask::UnitStruct(name) => value.deserialize_unit_struct(name, visitor),
        Ask::Seq => value.deserialize_seq(visitor),
        Ask::Tuple(len) => value.deserialize_tuple(len, visitor),
        Ask::TupleStruct(name, len) => value.deserialize_tuple_struct(name, len, visitor),
        Ask::Map => value.deserialize_map(visitor),
        Ask::Struct(name, fields) => value.deserialize_struct(name, fields, visitor),
        Ask::Enum(name, variants) => value.deserialize_enum(name, variants, visitor),
        Ask::Identifier => value.deserialize_identifier(visitor),
    }
}

/// A YAML deserializer made as strict as a `serde_json::Value`: every request reads the node
/// as the reference path's value builder does (`deserialize_any`), then answers as the value.
struct Strict<'s, D> {
    de: D,
    /// Set on the document's root only: where its top-level keys are recorded.
    top: Option<&'s Cell<u8>>,
}

impl<'s, D> Strict<'s, D> {
    fn node<V>(&self, ask: Ask, visitor: V) -> Node<'s, V> {
        Node {
            ask,
            visitor,
            top: self.top,
        }
    }
}

macro_rules! ask_node {
    ($($method:ident => $ask:expr;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
                let node = self.node($ask, visitor);
                self.de.deserialize_any(node)
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<'_, D> {
    type Error = D::Error;

    ask_node! {
        deserialize_any => Ask::Any;
        deserialize_bool => Ask::Bool;
        deserialize_i8 => Ask::I8;
        deserialize_i16 => Ask::I16;
        deserialize_i32 => Ask::I32;
        deserialize_i64 => Ask::I64;
        deserialize_i128 => Ask::I128;
        deserialize_u8 => Ask::U8;
        deserialize_u16 => Ask::U16;
        deserialize_u32 => Ask::U32;
        deserialize_u64 => Ask::U64;
        deserialize_u128 => Ask::U128;
        deserialize_f32 => Ask::F32;
        deserialize_f64 => Ask::F64;
        deserialize_char => Ask::Char;
        deserialize_str => Ask::Str;
        deserialize_string => Ask::String;
        deserialize_bytes => Ask::Bytes;
        deserialize_byte_buf => Ask::ByteBuf;
        deserialize_option => Ask::Option;
        deserialize_unit => Ask::Unit;
        deserialize_seq => Ask::Seq;
        deserialize_map => Ask::Map;
        deserialize_identifier => Ask::Identifier;
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let node = self.node(Ask::UnitStruct(name), visitor);
        self.de.deserialize_any(node)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let node = self.node(Ask::Tuple(len), visitor);
        self.de.deserialize_any(node)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let node = self.node(Ask::TupleStruct(name, len), visitor);
        self.de.deserialize_any(node)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let node = self.node(Ask::Struct(name, fields), visitor);
        self.de.deserialize_any(node)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let node = self.node(Ask::Enum(name, variants), visitor);
        self.de.deserialize_any(node)
    }

    /// A value hands itself to a newtype whatever it holds.
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        visitor.visit_newtype_struct(self)
    }

    /// A skipped field was still turned into a value by the reference path, which fails on
    /// what JSON cannot hold (a mapping as a key, a tagged node): so is this one.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        Value::deserialize(self.de)?;
        visitor.visit_unit()
    }
}

/// Receives one node from the YAML deserializer, as the reference path's value builder does,
/// and answers the typed decoder's `ask` with it.
struct Node<'s, V> {
    ask: Ask,
    visitor: V,
    top: Option<&'s Cell<u8>>,
}

impl<'de, V: Visitor<'de>> Node<'_, V> {
    fn scalar<E: de::Error>(self, value: Value) -> Result<V::Value, E> {
        replay(value, self.ask, self.visitor).map_err(E::custom)
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Node<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<V::Value, E> {
        self.scalar(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<V::Value, E> {
        self.scalar(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<V::Value, E> {
        self.scalar(Value::Number(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<V::Value, E> {
        let n = Number::deserialize(de::value::I128Deserializer::<E>::new(v))?;
        self.scalar(Value::Number(n))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<V::Value, E> {
        let n = Number::deserialize(de::value::U128Deserializer::<E>::new(v))?;
        self.scalar(Value::Number(n))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<V::Value, E> {
        self.scalar(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        self.scalar(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        self.scalar(Value::String(v))
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.scalar(Value::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.scalar(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        let value = Value::deserialize(de)?;
        replay(value, self.ask, self.visitor).map_err(de::Error::custom)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        match self.ask {
            Ask::Any
            | Ask::Seq
            | Ask::Tuple(_)
            | Ask::TupleStruct(..)
            | Ask::Struct(..)
            | Ask::Bytes
            | Ask::ByteBuf => self.visitor.visit_seq(StrictSeq(seq)),
            Ask::Option => self.visitor.visit_some(SeqNode(seq)),
            _ => Err(de::Error::invalid_type(Unexpected::Seq, &self.visitor)),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        match self.ask {
            Ask::Any | Ask::Map | Ask::Struct(..) => {
                self.visitor.visit_map(StrictMap { map, top: self.top })
            }
            Ask::Option => self.visitor.visit_some(MapNode(map)),
            // A value reads a one-key mapping as an enum; no type read here wants that.
            _ => Err(de::Error::invalid_type(Unexpected::Map, &self.visitor)),
        }
    }
}

/// A sequence's elements, each read strictly.
struct StrictSeq<A>(A);

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for StrictSeq<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(StrictSeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// A mapping's entries: keys as a value's keys (any scalar, as a string), values strictly.
struct StrictMap<'s, A> {
    map: A,
    top: Option<&'s Cell<u8>>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for StrictMap<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.map.next_key_seed(KeySeed {
            seed,
            top: self.top,
        })
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.map.next_value_seed(StrictSeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

struct StrictSeed<T>(T);

impl<'de, T: DeserializeSeed<'de>> DeserializeSeed<'de> for StrictSeed<T> {
    type Value = T::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<T::Value, D::Error> {
        self.0.deserialize(Strict { de, top: None })
    }
}

/// Reads a key as the value builder does (`deserialize_str`: any scalar, as its text) and
/// hands the text to the typed decoder.
struct KeySeed<'s, K> {
    seed: K,
    top: Option<&'s Cell<u8>>,
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, K> {
    type Value = K::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<K::Value, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de, K: DeserializeSeed<'de>> Visitor<'de> for KeySeed<'_, K> {
    type Value = K::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<K::Value, E> {
        if let Some(top) = self.top {
            match key {
                "apiVersion" => top.set(top.get() | SEEN_API_VERSION),
                "kind" => top.set(top.get() | SEEN_KIND),
                _ => {}
            }
        }
        self.seed.deserialize(StrDeserializer::<E>::new(key))
    }
}

/// A mapping the typed decoder reached through `Some`: answers as a value holding a mapping.
struct MapNode<A>(A);

/// A sequence the typed decoder reached through `Some`: answers as a value holding one.
struct SeqNode<A>(A);

/// What a mapping or sequence value answers to any request it cannot satisfy.
macro_rules! refuse {
    ($unexpected:expr; $($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
                Err(de::Error::invalid_type($unexpected, &visitor))
            }
        )*
    };
}

impl<'de, A: MapAccess<'de>> Deserializer<'de> for MapNode<A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(StrictMap {
            map: self.0,
            top: None,
        })
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(
        mut self,
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        while self.0.next_entry::<String, Value>()?.is_some() {}
        visitor.visit_unit()
    }

    refuse! { Unexpected::Map;
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_bytes deserialize_byte_buf deserialize_unit
        deserialize_seq deserialize_identifier
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        Err(de::Error::invalid_type(Unexpected::Map, &visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        Err(de::Error::invalid_type(Unexpected::Map, &visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        Err(de::Error::invalid_type(Unexpected::Map, &visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        Err(de::Error::invalid_type(Unexpected::Map, &visitor))
    }
}

impl<'de, A: SeqAccess<'de>> Deserializer<'de> for SeqNode<A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_seq(StrictSeq(self.0))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(
        mut self,
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        while self.0.next_element::<Value>()?.is_some() {}
        visitor.visit_unit()
    }

    refuse! { Unexpected::Seq;
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_unit deserialize_map deserialize_identifier
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        Err(de::Error::invalid_type(Unexpected::Seq, &visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        Err(de::Error::invalid_type(Unexpected::Seq, &visitor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::classify::classify;

    /// The reference reading: a value first, then `classify`.
    fn reference(text: &str) -> Option<Result<Parsed, crate::input::Reason>> {
        serde_yaml_ng::from_str::<Value>(text).ok().map(classify)
    }

    /// Whenever the direct reading answers, the reference reading gives the same object.
    fn agrees(text: &str) -> bool {
        let Some(direct) = decode(text) else {
            return false;
        };
        match reference(text) {
            Some(Ok(expected)) => assert_eq!(
                format!("{direct:?}"),
                format!("{expected:?}"),
                "different objects from:\n{text}"
            ),
            other => panic!("read directly, but the reference says {other:?}:\n{text}"),
        }
        true
    }

    const KINDS: &[&str] = &[
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\n  \
         labels: {app: api, version: \"1.0\"}\n  annotations: {a: \"true\"}\nspec:\n  \
         replicas: 3\n  revisionHistoryLimit: 0\n  strategy: {type: RollingUpdate, \
         rollingUpdate: {maxUnavailable: \"25%\", maxSurge: 1}}\n  selector: {matchLabels: \
         {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      \
         securityContext: {runAsNonRoot: true, runAsUser: 1000, fsGroup: 2000}\n      \
         containers:\n      - name: app\n        image: api:1.2\n        ports: \
         [{containerPort: 8080, name: http, protocol: TCP}]\n        env:\n        - {name: A, \
         value: \"1\"}\n        - {name: B, valueFrom: {secretKeyRef: {name: s, key: k}}}\n        \
         resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: 0.5, memory: 1e3}}\n        \
         readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 5}\n        \
         livenessProbe: {tcpSocket: {port: 8080}}\n      volumes:\n      - {name: s, secret: \
         {secretName: s, defaultMode: 420}}\n      - {name: d, emptyDir: {sizeLimit: 1Gi}}\n\
         status: {replicas: 3, conditions: [{type: Available, status: \"True\", \
         lastTransitionTime: \"2026-01-01T00:00:00Z\"}]}\n",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  serviceName: db\n  \
         selector: {matchLabels: {app: db}}\n  template:\n    spec:\n      containers: [{name: pg, \
         image: postgres}]\n  volumeClaimTemplates:\n  - metadata: {name: data}\n    spec: \
         {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Gi}}}\n",
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: kube-system}\n\
         spec: {selector: {matchLabels: {a: b}}, template: {spec: {hostNetwork: true, \
         containers: [{name: a, image: a, securityContext: {privileged: true}}]}}}\n",
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: api-7d9\n  ownerReferences: \
         [{apiVersion: apps/v1, kind: Deployment, name: api, uid: u, controller: true}]\n\
         spec: {selector: {matchLabels: {a: b}}, template: {spec: {containers: []}}}\n",
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: lone}\nspec: {selector: \
         {matchLabels: {a: b}}}\n",
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: backup}\nspec:\n  schedule: \
         \"@daily\"\n  suspend: false\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          \
         restartPolicy: OnFailure\n          containers: [{name: d, image: pg, command: [sh, -c, \
         \"pg_dump > /b\"]}]\n",
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n  ownerReferences:\n  - \
         {apiVersion: batch/v1, kind: CronJob, name: c, uid: u, controller: true}\nspec: \
         {template: {spec: {containers: []}}}\n",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: api-x\n  labels: {pod-template-hash: 7d9}\n  \
         creationTimestamp: \"2026-01-01T00:00:00Z\"\nspec:\n  nodeName: n1\n  containers: [{name: \
         app, image: api}]\nstatus:\n  phase: Running\n  containerStatuses:\n  - name: app\n    \
         ready: false\n    restartCount: 7\n    image: api\n    imageID: x\n    state: {waiting: \
         {reason: CrashLoopBackOff}}\n    lastState: {terminated: {reason: OOMKilled, exitCode: \
         137, finishedAt: \"2026-01-01T00:00:00Z\"}}\n",
        "apiVersion: v1\nkind: Service\nmetadata: {name: api, labels: {app: api}}\nspec:\n  type: \
         NodePort\n  selector: {app: api}\n  ports: [{port: 80, targetPort: http, nodePort: \
         30080}, {name: m, port: 9090, targetPort: 9090}]\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  URL: redis://r:6379\n  \
         app.properties: |\n    password=secret\n    port=8080\nbinaryData: {b: aGVsbG8=}\n",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: Opaque\ndata: {token: \
         dG9rZW4=}\nstringData: {pw: hunter2}\n",
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c}\nspec: {accessModes: \
         [ReadWriteOnce], storageClassName: fast, resources: {requests: {storage: 1Gi}}}\n\
         status: {phase: Bound}\n",
        "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv}\nspec: {capacity: {storage: \
         1Gi}, persistentVolumeReclaimPolicy: Delete, claimRef: {namespace: a, name: c}, \
         hostPath: {path: /x}}\n",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default}\n\
         automountServiceAccountToken: false\n",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: a}}\n",
        "apiVersion: v1\nkind: Node\nmetadata: {name: n1, labels: \
         {topology.kubernetes.io/zone: a}}\n",
        "apiVersion: v1\nkind: Endpoints\nmetadata: {name: api}\nsubsets: [{addresses: [{ip: \
         10.0.0.1}], ports: [{port: 80}]}]\n",
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i, annotations: \
         {nginx.ingress.kubernetes.io/proxy-body-size: \"0\"}}\nspec:\n  ingressClassName: nginx\n  \
         tls: [{hosts: [a.example.com], secretName: t}]\n  rules:\n  - host: a.example.com\n    \
         http:\n      paths: [{path: /, pathType: Prefix, backend: {service: {name: api, port: \
         {number: 80}}}}]\n",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec:\n  \
         podSelector: {}\n  policyTypes: [Ingress, Egress]\n  egress: [{to: [{ipBlock: {cidr: \
         0.0.0.0/0, except: []}}], ports: [{port: 53, protocol: UDP}]}]\n",
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: \
         {minAvailable: \"50%\", selector: {matchExpressions: [{key: app, operator: In, values: \
         [a, b]}]}}\n",
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n  \
         scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}\n  minReplicas: 2\n  \
         maxReplicas: 10\n  metrics: [{type: Resource, resource: {name: cpu, target: {type: \
         Utilization, averageUtilization: 80}}}]\n",
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fast, annotations: \
         {storageclass.kubernetes.io/is-default-class: \"true\"}}\nprovisioner: x\n\
         reclaimPolicy: Retain\nparameters: {type: gp3}\n",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb, \
         namespace: a}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: \
         edit}\nsubjects: [{kind: ServiceAccount, name: api}, {kind: Group, name: \
         \"system:serviceaccounts:a\"}]\n",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: \
         crb}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: \
         cluster-admin}\nsubjects: [{kind: ServiceAccount, name: api, namespace: a}]\n",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: all}\n\
         rules: [{apiGroups: [\"*\"], resources: [\"*\"], verbs: [\"*\"]}]\n",
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: api-x, labels: \
         {kubernetes.io/service-name: api}}\naddressType: IPv4\nendpoints: [{addresses: \
         [10.0.0.1], conditions: {ready: true}}]\n",
    ];

    #[test]
    fn every_kind_read_directly_is_the_object_the_reference_reads() {
        for text in KINDS {
            assert!(agrees(text), "not read directly:\n{text}");
        }
    }

    /// What a value would refuse, the direct reading refuses too (and leaves to the reference
    /// path, which says why); what a value accepts differently, it reads the same way.
    #[test]
    fn yaml_scalars_are_typed_as_a_value_types_them() {
        let head = "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n";
        for (field, direct) in [
            // Numbers, booleans and nulls where strings belong: a value refuses them.
            ("  labels: {version: 1.0}\n", false),
            ("  labels: {enabled: true}\n", false),
            ("  labels: {n: 0x1F}\n", false),
            ("  labels: {n: ~}\n", false),
            ("  namespace: 123\n", false),
            // Quoted, tagged and block scalars stay strings.
            ("  labels: {version: \"1.0\", b: '2', c: !!str 3}\n", true),
            (
                "  annotations:\n    note: |\n      two\n      lines\n",
                true,
            ),
            // Nulls where options belong are absent.
            ("  labels: ~\n  annotations: null\n", true),
            // Keys that are not strings to YAML are still strings to a value.
            ("  labels: {1: a, true: b, null: c}\n", true),
            // Anchors and aliases are replayed.
            ("  labels: &l {app: api}\n  annotations: *l\n", true),
            // A mapping as a key, even in a field nobody reads, has no JSON form.
            ("  unknownField: {? [a, b] : c}\n", false),
            // So has a local tag.
            ("  unknownField: !thing {a: b}\n", false),
            ("  unknownField: {a: [1, {b: .nan}], c: -0x10}\n", true),
            // The last of duplicate keys wins, as in a value.
            ("  labels: {a: x, a: y}\n", true),
        ] {
            let text = format!("{head}{field}spec: {{ports: [{{port: 80, targetPort: 8080}}]}}\n");
            assert_eq!(agrees(&text), direct, "{text}");
        }
        for (spec, direct) in [
            ("{replicas: \"3\"}", false),
            ("{replicas: 3.0}", false),
            ("{replicas: 99999999999}", false),
            ("{replicas: 99999999999999999999999}", false),
            ("{replicas: +3}", true),
            ("{replicas: 0o7}", true),
            ("{replicas: null}", true),
            ("{paused: yes}", false),
            ("{paused: True}", true),
            ("{minReadySeconds: -0}", true),
            // Infinity is null to a value, and a null required number is zero.
            (
                "{template: {spec: {containers: [{name: c, ports: [{containerPort: .inf}]}]}}}",
                true,
            ),
            (
                "{template: {spec: {terminationGracePeriodSeconds: 1e2}}}",
                false,
            ),
            (
                "{template: {spec: {volumes: [{name: v, secret: {defaultMode: 0644}}]}}}",
                false,
            ),
            (
                "{template: {spec: {volumes: [{name: v, secret: {defaultMode: 0o644}}]}}}",
                true,
            ),
            (
                "{strategy: {rollingUpdate: {maxUnavailable: 1, maxSurge: \"1\"}}}",
                true,
            ),
            ("{strategy: {rollingUpdate: {maxUnavailable: 1.5}}}", false),
            (
                "{template: {spec: {containers: [{name: c, resources: {limits: {cpu: 1.5, memory: \
              1024}}}]}}}",
                true,
            ),
            (
                "{template: {spec: {containers: [{name: c, resources: {limits: {cpu: .nan}}}]}}}",
                false,
            ),
            ("{template: {spec: {containers: {name: c}}}}", false),
            ("[1, 2]", false),
            ("", true),
        ] {
            let text = format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: a}}\nspec: {spec}\n"
            );
            assert_eq!(agrees(&text), direct, "{text}");
        }
        for (data, direct) in [
            ("{token: dG9rZW4=}", true),
            ("{token: null}", true),
            ("{token: 12}", false),
            ("{token: \"not base64!\"}", false),
            ("{token: [a]}", false),
        ] {
            let text =
                format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\ndata: {data}\n");
            assert_eq!(agrees(&text), direct, "{text}");
        }
    }

    #[test]
    fn headers_are_only_a_hint() {
        for text in [
            // No kind at the top level: the line belongs to a flow mapping.
            "apiVersion: v1\nmetadata: {name: a,\nkind: Service}\n",
            // The declared kind disagrees with the line read.
            "apiVersion: v1\nkind: Service\nkind: ConfigMap\nmetadata: {name: a}\n",
            "apiVersion: v1\nkind: Service\nmetadata: {}\n",
            "apiVersion: v2\nkind: Service\nmetadata: {name: a}\n",
            "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: a}\n",
            "apiVersion: v1\nkind: List\nitems: []\n",
            "{apiVersion: v1, kind: Service, metadata: {name: a}}\n",
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\nkind: Pod\n",
            "apiVersion: v1\nkind: Service\nmetadata: {name: a\n",
        ] {
            assert!(!agrees(text), "read directly:\n{text}");
        }
        assert!(agrees(
            "# comment\napiVersion: \"v1\"\nkind: Service  \nmetadata: {generateName: a-}\n"
        ));
    }

    /// Thousands of mutations of every kind: whatever is read directly is what the reference
    /// reads.
    #[test]
    fn mutated_documents_read_directly_agree_with_the_reference() {
        const TOKENS: &[&str] = &[
            ": ", "- ", "{", "}", "[", "]", "\"", "'", "\n  ", "null", "~", "-1", "0x1F", "1e3",
            "true", "yes", "{}", "[]", "&a ", "*a", "!!str ", "!t ", ".nan", "0644", "\"1\"", " #",
            "<<: ", "? ", "|\n", "12", "1.5",
        ];
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut direct = 0;
        for i in 0..6000 {
            let mut text = KINDS[i % KINDS.len()].to_string();
            for _ in 0..1 + next(3) {
                let mut at = next(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                match next(3) {
                    0 => text.insert_str(at, TOKENS[next(TOKENS.len())]),
                    1 => {
                        let mut end = (at + 1 + next(8)).min(text.len());
                        while !text.is_char_boundary(end) {
                            end -= 1;
                        }
                        text.replace_range(at..end, "");
                    }
                    _ => {
                        let mut end = (at + 1 + next(6)).min(text.len());
                        while !text.is_char_boundary(end) {
                            end -= 1;
                        }
                        text.replace_range(at..end, TOKENS[next(TOKENS.len())]);
                    }
                }
            }
            direct += usize::from(agrees(&text));
        }
        // Most mutations still read directly, or this would prove little.
        assert!(direct > 800, "only {direct} of 6000 read directly");
    }
}
