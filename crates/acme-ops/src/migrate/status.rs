//! `migrate status`: every service's position, from one read of the zone.
