  // ---- the bell's words (each one replaceable by options.text), its channels' names ----

  var TEXT = {
    locale: "",
    bell: "Notifications",
    unread: "{count} unread",
    title: "Notifications",
    messagesTab: "Inbox",
    settingsTab: "Settings",
    markAllRead: "Mark all as read",
    close: "Close",
    empty: "You're all caught up",
    emptyHint: "New notifications will show up here.",
    loading: "Loading…",
    loadFailed: "Couldn't load your notifications.",
    retry: "Try again",
    justNow: "", // empty: the locale's own word for "now"
    settingsHint: "Choose where each kind of notification reaches you.",
    settingsEmpty: "There is nothing to set up yet.",
    saved: "Saved",
    saveFailed: "Couldn't save your settings.",
    channelWidget: "In-app",
    channelEmail: "Email",
    channelSMS: "SMS",
    channelPush: "Push",
    pushTitle: "Browser notifications",
    pushHint: "Get notified on this device, even when this page is closed.",
    pushOn: "Browser notifications are on.",
    pushOff: "Browser notifications are off.",
    pushDenied: "Your browser blocks notifications from this site. Allow them in its site settings, then try again.",
    pushDismissed: "Notifications weren't allowed, so they stay off.",
    pushOnFailed: "Couldn't turn browser notifications on.",
    pushOffFailed: "Couldn't turn browser notifications off.",
    newMessage: "New notification",
    unreadMessage: "Unread",
  };

  var CHANNELS = [
    { key: "Widget", text: "channelWidget" },
    { key: "Email", text: "channelEmail" },
    { key: "SMS", text: "channelSMS" },
    { key: "Push", text: "channelPush" },
  ];
