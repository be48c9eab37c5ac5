use serde::{Serialize, Serializer};
use serde_json::{Value, json};

/// A string-valued CloudFormation expression: a literal or an intrinsic function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    Lit(String),
    Ref(String),
    GetAtt(String, String),
    Sub(String),
    Join(String, Vec<Expr>),
    Select(u32, Box<ExprList>),
    /// `Fn::Join` over a list-valued expression, e.g. a list attribute.
    JoinList(String, Box<ExprList>),
}

impl Expr {
    pub fn r#ref(logical_id: impl Into<String>) -> Self {
        Expr::Ref(logical_id.into())
    }
    pub fn att(logical_id: impl Into<String>, attribute: impl Into<String>) -> Self {
        Expr::GetAtt(logical_id.into(), attribute.into())
    }
    pub fn sub(template: impl Into<String>) -> Self {
        Expr::Sub(template.into())
    }
    pub fn join(separator: impl Into<String>, parts: Vec<Expr>) -> Self {
        Expr::Join(separator.into(), parts)
    }
    pub fn select(index: u32, list: ExprList) -> Self {
        Expr::Select(index, Box::new(list))
    }
    /// `Fn::Join` of a list-valued expression: `Expr::join_list(",", ExprList::att(id, "NameServers"))`.
    pub fn join_list(separator: impl Into<String>, list: ExprList) -> Self {
        Expr::JoinList(separator.into(), Box::new(list))
    }
    /// `AWS::AccountId`, `AWS::Region`, `AWS::Partition`, ...
    pub fn pseudo(name: &str) -> Self {
        Expr::Ref(format!("AWS::{name}"))
    }
    pub fn to_value(&self) -> Value {
        match self {
            Expr::Lit(s) => Value::String(s.clone()),
            Expr::Ref(id) => json!({ "Ref": id }),
            Expr::GetAtt(id, attr) => json!({ "Fn::GetAtt": [id, attr] }),
            Expr::Sub(s) => json!({ "Fn::Sub": s }),
            Expr::Join(sep, parts) => {
                json!({ "Fn::Join": [sep, parts.iter().map(Expr::to_value).collect::<Vec<_>>()] })
            }
            Expr::Select(i, list) => json!({ "Fn::Select": [i, list.to_value()] }),
            Expr::JoinList(sep, list) => json!({ "Fn::Join": [sep, list.to_value()] }),
        }
    }
}

impl From<&str> for Expr {
    fn from(s: &str) -> Self {
        Expr::Lit(s.to_owned())
    }
}

impl From<String> for Expr {
    fn from(s: String) -> Self {
        Expr::Lit(s)
    }
}

impl From<&String> for Expr {
    fn from(s: &String) -> Self {
        Expr::Lit(s.clone())
    }
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

/// A list-valued property: items written out, or one expression that yields a list
/// (a `List<...>` parameter, `Fn::GetAZs`, `Fn::Split`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExprList {
    Items(Vec<Expr>),
    Ref(String),
    GetAzs,
    Split(String, Expr),
    /// A list-valued attribute (`Fn::GetAtt [Zone, NameServers]`).
    GetAtt(String, String),
}

impl ExprList {
    pub fn att(logical_id: impl Into<String>, attribute: impl Into<String>) -> Self {
        ExprList::GetAtt(logical_id.into(), attribute.into())
    }
    pub fn to_value(&self) -> Value {
        match self {
            ExprList::Items(items) => Value::Array(items.iter().map(Expr::to_value).collect()),
            ExprList::Ref(id) => json!({ "Ref": id }),
            ExprList::GetAzs => json!({ "Fn::GetAZs": "" }),
            ExprList::Split(sep, e) => json!({ "Fn::Split": [sep, e.to_value()] }),
            ExprList::GetAtt(id, attr) => json!({ "Fn::GetAtt": [id, attr] }),
        }
    }
}

impl<T: Into<Expr>> From<Vec<T>> for ExprList {
    fn from(items: Vec<T>) -> Self {
        ExprList::Items(items.into_iter().map(Into::into).collect())
    }
}

impl Serialize for ExprList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}
