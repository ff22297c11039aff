"""The messenger's use cases, one module per capability, behind one entry point.

``Messenger`` wires the capabilities to the ports and names every use case, so callers
write ``messenger.send_message(actor, …)`` whatever module the use case lives in. Each
use case takes the acting user and plain values, runs in one unit of work, writes the
events for everyone it concerns in the same transaction, wakes waiters only after the
commit, deletes blobs only after the rows pointing at them are gone, and returns frozen
read models.
"""

from __future__ import annotations

from ..ports import (
    BackgroundJobs,
    BlobStore,
    Clock,
    EmojiCatalog,
    EphemeralSignals,
    EventNotifier,
    ImageProcessor,
    Mailer,
    PasswordHasher,
    RandomSource,
    TokenCodec,
    UnitOfWorkFactory,
)
from ..tokens import TokenPolicy
from .account_data import AccountData
from .accounts import Accounts
from .blocks import Blocks
from .chats import Chats
from .context import Context, MessengerSettings, Upload
from .events import Events
from .friends import Friends
from .groups import Groups
from .media import Media
from .message_search import MessageSearch
from .messages import Messages
from .notifications import Notifications
from .pins import Pins
from .privacy import Privacy
from .profiles import Profiles
from .reactions import Reactions
from .retry import retry_every_use_case
from .sessions import Sessions

__all__ = ["Messenger", "MessengerSettings", "Upload"]


class Messenger:
    """Every use case of the messenger, by name."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        clock: Clock,
        random: RandomSource,
        hasher: PasswordHasher,
        codec: TokenCodec,
        blobs: BlobStore,
        images: ImageProcessor,
        notifier: EventNotifier,
        mailer: Mailer,
        signals: EphemeralSignals,
        jobs: BackgroundJobs,
        emoji: EmojiCatalog,
        settings: MessengerSettings | None = None,
    ) -> None:
        self.settings = settings or MessengerSettings()
        self.tokens = TokenPolicy(
            codec=codec,
            clock=clock,
            access_lifetime=self.settings.access_token_lifetime,
            access_max_lifetime=self.settings.access_token_max_lifetime,
        )
        ctx = Context(
            uow=uow,
            clock=clock,
            random=random,
            hasher=hasher,
            tokens=self.tokens,
            blobs=blobs,
            images=images,
            notifier=notifier,
            mailer=mailer,
            emoji=emoji,
            settings=self.settings,
            signals=signals,
            jobs=jobs,
        )
        sessions = Sessions(ctx)
        self.login = sessions.login
        self.authenticate = sessions.authenticate
        self.refresh = sessions.refresh
        self.logout = sessions.logout
        self.list_sessions = sessions.list_sessions
        self.end_session = sessions.end_session
        self.end_other_sessions = sessions.end_other_sessions
        self.prune_sessions = sessions.prune_sessions

        accounts = Accounts(ctx, sessions)
        self.register = accounts.register
        self.request_confirmation = accounts.request_confirmation
        self.confirm_email = accounts.confirm_email

        profiles = Profiles(ctx)
        self.get_user = profiles.get_user
        self.get_user_by_username = profiles.get_user_by_username
        self.update_profile = profiles.update_profile
        self.set_avatar = profiles.set_avatar
        self.open_avatar = profiles.open_avatar
        self.search_users = profiles.search_users

        friends = Friends(ctx)
        self.send_friend_request = friends.send_friend_request
        self.accept_friend_request = friends.accept_friend_request
        self.deny_friend_request = friends.deny_friend_request
        self.remove_friend = friends.remove_friend
        self.list_friends = friends.list_friends

        blocks = Blocks(ctx)
        self.block_user = blocks.block_user
        self.unblock_user = blocks.unblock_user
        self.list_blocked = blocks.list_blocked

        privacy = Privacy(ctx)
        self.get_privacy = privacy.get_privacy
        self.update_privacy = privacy.update_privacy
        self.send_typing = privacy.send_typing

        chats = Chats(ctx)
        self.open_chat = chats.open_chat
        self.get_chat = chats.get_chat
        self.find_chat_with = chats.find_chat_with
        self.list_chats = chats.list_chats
        self.latest_messages = chats.latest_messages
        self.delete_chat = chats.delete_chat
        self.delete_chat_with = chats.delete_chat_with
        self.clear_chat = chats.clear_chat

        messages = Messages(ctx)
        self.send_message = messages.send_message
        self.forward_message = messages.forward_message
        self.history = messages.history
        self.history_with = messages.history_with
        self.history_page = messages.history_page
        self.history_page_with = messages.history_page_with
        self.edit_message = messages.edit_message
        self.edit_history = messages.edit_history
        self.delete_message = messages.delete_message
        self.hide_message = messages.hide_message
        self.mark_read = messages.mark_read
        self.readers = messages.readers

        self.search_messages = MessageSearch(ctx).search_messages

        notifications = Notifications(ctx)
        self.mute_chat = notifications.mute_chat
        self.notification_settings = notifications.notification_settings
        self.update_notification_settings = notifications.update_notification_settings

        reactions = Reactions(ctx)
        self.add_reaction = reactions.add_reaction
        self.remove_reaction = reactions.remove_reaction

        pins = Pins(ctx)
        self.pin_message = pins.pin_message
        self.unpin_message = pins.unpin_message
        self.list_pins = pins.list_pins

        groups = Groups(ctx, messages)
        self.create_group = groups.create_group
        self.update_group = groups.update_group
        self.set_group_photo = groups.set_group_photo
        self.open_group_photo = groups.open_group_photo
        self.add_members = groups.add_members
        self.remove_member = groups.remove_member
        self.leave_group = groups.leave_group
        self.set_member_role = groups.set_member_role

        account_data = AccountData(ctx, groups, messages)
        self.start_export = account_data.start_export
        self.export_status = account_data.export_status
        self.open_export = account_data.open_export
        self.build_pending_exports = account_data.build_pending_exports
        self.prune_exports = account_data.prune_exports
        self.delete_account = account_data.delete_account

        media = Media(ctx)
        self.list_sticker_packs = media.list_sticker_packs
        self.add_sticker_pack = media.add_sticker_pack
        self.open_sticker = media.open_sticker
        self.upload_attachment = media.upload_attachment
        self.open_attachment = media.open_attachment
        self.remove_orphan_uploads = media.remove_orphan_uploads
        self.remove_stray_files = media.remove_stray_files

        events = Events(ctx)
        self.events = events.events
        self.prune_events = events.prune_events

        # Last: every use case bound above runs again when the storage was too busy.
        retry_every_use_case(self)
