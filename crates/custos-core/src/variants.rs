//! Enums whose every variant is listed once: [`all_variants!`](crate::all_variants) declares a
//! fieldless enum and derives its `ALL` array from the declaration, so a new variant cannot be
//! left out of the list that forms, reports and policy tables iterate.

/// Declares a fieldless enum (attributes, docs and serde renames as usual) and an inherent
/// `pub const ALL: [Self; N]` holding every variant in declaration order.
#[macro_export]
macro_rules! all_variants {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),*
        }

        impl $name {
            /// Every variant, in declaration order (derived from the declaration).
            pub const ALL: [$name; [$(stringify!($variant)),*].len()] = [$($name::$variant),*];
        }
    };
}

#[cfg(test)]
mod tests {
    crate::all_variants! {
        /// A test enum.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum Colour {
            /// First.
            Red,
            Green,
            Blue,
        }
    }

    /// A1/D3/J1 tables iterate `ALL`: it holds every declared variant once, in order.
    #[test]
    fn a1_all_lists_every_variant_in_declaration_order() {
        assert_eq!(Colour::ALL, [Colour::Red, Colour::Green, Colour::Blue]);
    }
}
