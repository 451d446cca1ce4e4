//! One file per visible part of the page.

mod chat_room;
mod composer;
mod connection_status;
mod message_list;
mod name_field;
mod notification_switch;
mod people;
mod room_list;

pub use chat_room::ChatRoom;
pub use composer::Composer;
pub use connection_status::ConnectionStatus;
pub use message_list::{page_title, FailedMessage, MessageList};
pub use name_field::NameField;
pub use notification_switch::NotificationSwitch;
pub use people::{People, TypingIndicator};
pub use room_list::RoomList;
