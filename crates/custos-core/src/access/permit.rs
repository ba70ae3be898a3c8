//! Narrowed capabilities: a [`Permit<A>`] is proof that [`decide`](super::decide) allowed action
//! `A` for one principal on one resource at one instant. It has no public constructor, so server
//! code can demand, say, a `Permit<act::Export>` argument on its export path and no caller can
//! reach that path without having asked the policy.

use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, Utc};

use super::policy::{Action, Approval, Reason, Resource, Role, evaluate, needs_approval};
use super::{Principal, Scope};

mod sealed {
    pub trait Sealed {}
}

/// A type-level action: one marker type per [`Action`], in [`act`].
pub trait PermitAction: sealed::Sealed {
    const ACTION: Action;
}

/// Marker types, one per [`Action`].
pub mod act {
    macro_rules! markers {
        ($($name:ident),* $(,)?) => {$(
            #[doc = concat!("Marker for [`Action::", stringify!($name), "`](crate::access::Action::", stringify!($name), ").")]
            #[derive(Clone, Copy, Debug, PartialEq, Eq)]
            pub enum $name {}
            impl super::sealed::Sealed for $name {}
            impl super::PermitAction for $name {
                const ACTION: super::Action = super::Action::$name;
            }
        )*};
    }
    markers!(
        ViewLive,
        Playback,
        Export,
        CopyTransmit,
        ReadBasicInfo,
        ManageUsers,
        ManageConfig,
        PlaceHold,
        ReleaseHold,
        ApprovePoliceRequest,
        ViewAuditLog,
        Inspect,
        CreateFinding,
    );
}

/// Proof that `principal` may do `A` on `resource` (as decided at `decided_at`). Not `Clone`:
/// one permit, one use. Check [`Permit::needs_approval`] before acting on it.
pub struct Permit<A: PermitAction> {
    principal: String,
    role: Role,
    resource: Resource,
    decided_at: DateTime<Utc>,
    _action: PhantomData<fn() -> A>,
}

/// Asks the policy for `A`; on `Allow` returns the permit, otherwise the denial's reason.
pub fn permit<A: PermitAction>(
    p: &Principal,
    resource: &Resource,
    now: DateTime<Utc>,
) -> Result<Permit<A>, Reason> {
    let g = evaluate(p, A::ACTION, resource, now)?;
    Ok(Permit {
        principal: p.id.clone(),
        role: g.role,
        resource: resource.clone(),
        decided_at: now,
        _action: PhantomData,
    })
}

/// The same decision for an action known only at run time: on `Allow`, the approval the
/// granting role still needs (H2 for police footage), if any.
pub fn required_approval(
    p: &Principal,
    action: Action,
    resource: &Resource,
    now: DateTime<Utc>,
) -> Result<Option<Approval>, Reason> {
    let g = evaluate(p, action, resource, now)?;
    Ok(needs_approval(action, g.role))
}

impl<A: PermitAction> Permit<A> {
    pub fn action(&self) -> Action {
        A::ACTION
    }

    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The role whose grant allowed the action.
    pub fn role(&self) -> Role {
        self.role
    }

    pub fn resource(&self) -> &Resource {
        &self.resource
    }

    pub fn location(&self) -> &Scope {
        &self.resource.location
    }

    pub fn decided_at(&self) -> DateTime<Utc> {
        self.decided_at
    }

    /// The approval still needed before acting (H2 for police footage, a second person for
    /// releasing a hold), if any.
    pub fn needs_approval(&self) -> Option<Approval> {
        needs_approval(A::ACTION, self.role)
    }
}

impl<A: PermitAction> fmt::Debug for Permit<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("action", &A::ACTION)
            .field("principal", &self.principal)
            .field("role", &self.role)
            .field("resource", &self.resource)
            .field("decided_at", &self.decided_at)
            .finish()
    }
}
