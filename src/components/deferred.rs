//! A view built when it is rendered, not when it is created.
//!
//! On the server, a `<Suspense>` or `<Transition>` whose resources have loaded walks its
//! children once more (Leptos' "dry resolve", to find resources read on the way) and then
//! renders them from scratch: a `move || Suspend::new(…)` child is called twice, and the view
//! it awaits is built twice. For a long list that second build was an eighth of the queue
//! page's server time. Wrapped in [`Deferred`], the walk passes it by and it is built once;
//! in the browser nothing changes.

use std::future::Future;

use leptos::{
    prelude::Owner,
    tachys::{
        html::attribute::{any_attribute::AnyAttribute, Attribute},
        hydration::Cursor,
        ssr::StreamBuilder,
        view::{
            add_attr::AddAnyAttr,
            any_view::{AnyView, AnyViewState, AnyViewWithAttrs},
            Position, PositionState, Render, RenderHtml,
        },
    },
};

/// A view and the reactive owner it is to be built under.
pub struct Deferred {
    owner: Option<Owner>,
    build: Box<dyn FnOnce() -> AnyView + Send>,
}

impl Deferred {
    pub fn new(build: impl FnOnce() -> AnyView + Send + 'static) -> Self {
        Self {
            owner: Owner::current(),
            build: Box::new(build),
        }
    }

    fn view(self) -> AnyView {
        match self.owner {
            Some(owner) => owner.with(self.build),
            None => (self.build)(),
        }
    }
}

impl Render for Deferred {
    type State = AnyViewState;

    fn build(self) -> Self::State {
        self.view().build()
    }

    fn rebuild(self, state: &mut Self::State) {
        self.view().rebuild(state)
    }
}

impl AddAnyAttr for Deferred {
    type Output<SomeNewAttr: Attribute> = AnyViewWithAttrs;

    fn add_any_attr<NewAttr: Attribute>(self, attr: NewAttr) -> Self::Output<NewAttr>
    where
        Self::Output<NewAttr>: RenderHtml,
    {
        self.view().add_any_attr(attr)
    }
}

impl RenderHtml for Deferred {
    type AsyncOutput = AnyView;
    type Owned = Self;

    const MIN_LENGTH: usize = 0;

    /// Nothing to find: the view is not built yet, and is walked when it is.
    fn dry_resolve(&mut self) {}

    fn resolve(self) -> impl Future<Output = Self::AsyncOutput> + Send {
        self.view().resolve()
    }

    fn to_html_with_buf(
        self,
        buf: &mut String,
        position: &mut Position,
        escape: bool,
        mark_branches: bool,
        extra_attrs: Vec<AnyAttribute>,
    ) {
        self.view()
            .to_html_with_buf(buf, position, escape, mark_branches, extra_attrs)
    }

    fn to_html_async_with_buf<const OUT_OF_ORDER: bool>(
        self,
        buf: &mut StreamBuilder,
        position: &mut Position,
        escape: bool,
        mark_branches: bool,
        extra_attrs: Vec<AnyAttribute>,
    ) where
        Self: Sized,
    {
        self.view().to_html_async_with_buf::<OUT_OF_ORDER>(
            buf,
            position,
            escape,
            mark_branches,
            extra_attrs,
        )
    }

    fn hydrate<const FROM_SERVER: bool>(
        self,
        cursor: &Cursor,
        position: &PositionState,
    ) -> Self::State {
        self.view().hydrate::<FROM_SERVER>(cursor, position)
    }

    fn into_owned(self) -> Self::Owned {
        self
    }
}
