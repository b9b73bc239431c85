//! The SCIM schemas this service provider accepts (RFC 7643 §4, §8.7): one description used to
//! check request bodies, resolve PATCH paths and filters, and answer `/Schemas`.

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const SERVICE_PROVIDER_CONFIG: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    Boolean,
    Complex,
    Reference,
}

impl Type {
    pub fn name(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Boolean => "boolean",
            Type::Complex => "complex",
            Type::Reference => "reference",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadWrite,
    ReadOnly,
    Immutable,
    /// Accepted and dropped: passwords are never stored.
    WriteOnly,
}

impl Mutability {
    pub fn name(self) -> &'static str {
        match self {
            Mutability::ReadWrite => "readWrite",
            Mutability::ReadOnly => "readOnly",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// One attribute, with its sub-attributes when complex.
#[derive(Debug)]
pub struct Attr {
    pub name: &'static str,
    pub ty: Type,
    pub multi: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    /// `uniqueness: server` (userName).
    pub unique: bool,
    pub canonical: &'static [&'static str],
    pub sub: &'static [Attr],
    pub description: &'static str,
}

impl Attr {
    const fn new(name: &'static str, ty: Type, description: &'static str) -> Self {
        Self {
            name,
            ty,
            multi: false,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            unique: false,
            canonical: &[],
            sub: &[],
            description,
        }
    }

    const fn string(name: &'static str, description: &'static str) -> Self {
        Self::new(name, Type::String, description)
    }

    const fn boolean(name: &'static str, description: &'static str) -> Self {
        Self::new(name, Type::Boolean, description)
    }

    const fn complex(name: &'static str, sub: &'static [Attr], description: &'static str) -> Self {
        let mut attr = Self::new(name, Type::Complex, description);
        attr.sub = sub;
        attr
    }

    const fn multi(mut self) -> Self {
        self.multi = true;
        self
    }

    const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    const fn exact(mut self) -> Self {
        self.case_exact = true;
        self
    }

    const fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    const fn mutability(mut self, mutability: Mutability) -> Self {
        self.mutability = mutability;
        self
    }

    const fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical = values;
        self
    }

    const fn reference(name: &'static str, description: &'static str) -> Self {
        Self::new(name, Type::Reference, description)
    }

    /// The sub-attribute called `name` (case-insensitive, RFC 7643 §2.1).
    pub fn sub_attr(&self, name: &str) -> Option<&'static Attr> {
        find(self.sub, name)
    }
}

/// The attribute called `name` in `attrs`, ignoring case.
pub fn find(attrs: &'static [Attr], name: &str) -> Option<&'static Attr> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

/// A schema: its URN and attributes.
#[derive(Debug)]
pub struct Schema {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attrs: &'static [Attr],
}

/// A resource type: its core schema and extensions.
#[derive(Debug)]
pub struct ResourceType {
    pub name: &'static str,
    pub endpoint: &'static str,
    pub description: &'static str,
    pub core: &'static Schema,
    pub extensions: &'static [&'static Schema],
}

impl ResourceType {
    /// The core schema or an extension, by URN (case-insensitive).
    pub fn schema(&self, urn: &str) -> Option<&'static Schema> {
        std::iter::once(self.core)
            .chain(self.extensions.iter().copied())
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Splits `urn:…:User:name.givenName` into the schema and the rest; a name without a known
    /// URN prefix belongs to the core schema.
    pub fn split_urn<'a>(&self, path: &'a str) -> (&'static Schema, &'a str) {
        for schema in std::iter::once(self.core).chain(self.extensions.iter().copied()) {
            let prefix = schema.id;
            if path.len() > prefix.len()
                && path.is_char_boundary(prefix.len())
                && path[..prefix.len()].eq_ignore_ascii_case(prefix)
                && path[prefix.len()..].starts_with(':')
            {
                return (schema, &path[prefix.len() + 1..]);
            }
        }
        (self.core, path)
    }
}

const MULTI_VALUE: &[Attr] = &[
    Attr::string("value", "The value."),
    Attr::string("display", "A human-readable name."),
    Attr::string("type", "A label: work, home, other, …"),
    Attr::boolean("primary", "Whether this is the primary value; at most one."),
];

const EMAIL: &[Attr] = &[
    Attr::string("value", "The email address."),
    Attr::string("display", "A human-readable name."),
    Attr::string("type", "work, home or other.").canonical(&["work", "home", "other"]),
    Attr::boolean(
        "primary",
        "Whether this is the primary address; at most one.",
    ),
];

const NAME: &[Attr] = &[
    Attr::string("formatted", "The full name, formatted for display."),
    Attr::string("familyName", "The family name."),
    Attr::string("givenName", "The given name."),
    Attr::string("middleName", "The middle name."),
    Attr::string("honorificPrefix", "For example Ms."),
    Attr::string("honorificSuffix", "For example III."),
];

const ADDRESS: &[Attr] = &[
    Attr::string("formatted", "The full address."),
    Attr::string("streetAddress", "Street and number."),
    Attr::string("locality", "City."),
    Attr::string("region", "State or region."),
    Attr::string("postalCode", "Postal code."),
    Attr::string("country", "ISO 3166-1 alpha-2 country code."),
    Attr::string("type", "work, home or other.").canonical(&["work", "home", "other"]),
    Attr::boolean(
        "primary",
        "Whether this is the primary address; at most one.",
    ),
];

const MANAGER: &[Attr] = &[
    Attr::string("value", "The id of the manager's User."),
    Attr::reference("$ref", "The URI of the manager's User."),
    Attr::string("displayName", "The manager's name.").mutability(Mutability::ReadOnly),
];

const MEMBER: &[Attr] = &[
    Attr::string("value", "The id of a member User.")
        .exact()
        .mutability(Mutability::Immutable),
    Attr::reference("$ref", "The URI of the member.").mutability(Mutability::Immutable),
    Attr::string("display", "The member's name.").mutability(Mutability::ReadOnly),
    Attr::string("type", "User (groups cannot be members).")
        .canonical(&["User"])
        .mutability(Mutability::Immutable),
];

const USER_ATTRS: &[Attr] = &[
    Attr::string("externalId", "The provider's own id of the user.").exact(),
    Attr::string("userName", "Unique login name; case-insensitive.")
        .required()
        .unique(),
    Attr::complex("name", NAME, "The components of the user's name."),
    Attr::string("displayName", "The name to show."),
    Attr::string("nickName", "A casual name."),
    Attr::reference("profileUrl", "A URL of the user's profile."),
    Attr::string("title", "Job title."),
    Attr::string("userType", "For example Employee or Contractor."),
    Attr::string("preferredLanguage", "For example en-US."),
    Attr::string("locale", "For example en-US."),
    Attr::string("timezone", "For example Europe/Berlin."),
    Attr::boolean("active", "Whether the user may sign in; false deactivates."),
    Attr::string("password", "Accepted and never stored.").mutability(Mutability::WriteOnly),
    Attr::complex("emails", EMAIL, "Email addresses.").multi(),
    Attr::complex("phoneNumbers", MULTI_VALUE, "Phone numbers.").multi(),
    Attr::complex("ims", MULTI_VALUE, "Instant messaging addresses.").multi(),
    Attr::complex("photos", MULTI_VALUE, "URLs of photos.").multi(),
    Attr::complex("addresses", ADDRESS, "Physical addresses.").multi(),
    Attr::complex("entitlements", MULTI_VALUE, "Entitlements.").multi(),
    Attr::complex("roles", MULTI_VALUE, "Roles.").multi(),
    Attr::complex("x509Certificates", MULTI_VALUE, "Certificates.").multi(),
];

const ENTERPRISE_ATTRS: &[Attr] = &[
    Attr::string("employeeNumber", "Employee number."),
    Attr::string("costCenter", "Cost center."),
    Attr::string("organization", "Organization."),
    Attr::string("division", "Division."),
    Attr::string("department", "Department."),
    Attr::complex("manager", MANAGER, "The user's manager."),
];

const GROUP_ATTRS: &[Attr] = &[
    Attr::string("externalId", "The provider's own id of the group.").exact(),
    Attr::string("displayName", "The group's name.").required(),
    Attr::complex("members", MEMBER, "The users in the group.").multi(),
];

pub static USER_SCHEMA: Schema = Schema {
    id: USER,
    name: "User",
    description: "User Account",
    attrs: USER_ATTRS,
};

pub static ENTERPRISE_SCHEMA: Schema = Schema {
    id: ENTERPRISE_USER,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attrs: ENTERPRISE_ATTRS,
};

pub static GROUP_SCHEMA: Schema = Schema {
    id: GROUP,
    name: "Group",
    description: "Group",
    attrs: GROUP_ATTRS,
};

pub static USERS: ResourceType = ResourceType {
    name: "User",
    endpoint: "/Users",
    description: "User Account",
    core: &USER_SCHEMA,
    extensions: &[&ENTERPRISE_SCHEMA],
};

pub static GROUPS: ResourceType = ResourceType {
    name: "Group",
    endpoint: "/Groups",
    description: "Group",
    core: &GROUP_SCHEMA,
    extensions: &[],
};

/// Every schema, for `/Schemas`.
pub fn all() -> [&'static Schema; 3] {
    [&USER_SCHEMA, &ENTERPRISE_SCHEMA, &GROUP_SCHEMA]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urns_split_before_dotted_names() {
        let (schema, rest) = USERS
            .split_urn("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value");
        assert_eq!(schema.id, ENTERPRISE_USER);
        assert_eq!(rest, "manager.value");
        let (schema, rest) = USERS.split_urn("name.givenName");
        assert_eq!(schema.id, USER);
        assert_eq!(rest, "name.givenName");
        let (schema, rest) = USERS.split_urn("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:userName");
        assert_eq!(schema.id, USER);
        assert_eq!(rest, "userName");
    }

    #[test]
    fn names_are_case_insensitive() {
        assert_eq!(
            find(USER_ATTRS, "USERNAME").map(|a| a.name),
            Some("userName")
        );
        assert!(find(USER_ATTRS, "nope").is_none());
    }
}
