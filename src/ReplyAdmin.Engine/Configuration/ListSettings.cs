using System;
using System.Collections.Generic;
using System.Linq;
using ReplyAdmin.Engine.Scanning;

namespace ReplyAdmin.Engine.Configuration
{
    /// <summary>
    /// The named changes of the configured lists, each one read-change-validate-write under the configuration file's lock
    /// (<see cref="ConfigurationStore.Update{T}"/>), so a cmdlet or a service host only says what to change.
    /// </summary>
    public sealed class ListSettings
    {
        private readonly ConfigurationStore _store;

        /// <summary>Works on the configuration file of <paramref name="store"/>.</summary>
        public ListSettings(ConfigurationStore store) => _store = store;

        /// <summary>Adds a list.</summary>
        /// <returns>A copy of the added list.</returns>
        /// <exception cref="ConfigurationException">The list is invalid or its name or address is taken (nothing is written).</exception>
        public ReplyList Add(ReplyList list)
        {
            var added = list.Clone();
            _store.Update(configuration =>
            {
                configuration.Lists.Add(added);
                return 0;
            });
            return added.Clone();
        }

        /// <summary>Changes a list's address, when <paramref name="setDescription"/> its description, and its forward mode; null leaves a part as it is.</summary>
        /// <returns>A copy of the changed list.</returns>
        /// <exception cref="ReplyAdminException"><c>ListNotFound</c>, or the change is invalid (nothing is written).</exception>
        public ReplyList Set(string name, string address, bool setDescription, string description,
            SenderAuthentication.ForwardMode? forwardMode = null, bool? forwardUnauthenticated = null) => Change(name, list =>
        {
            if (address != null) list.Address = address;
            if (setDescription) list.Description = description;
            if (forwardMode.HasValue) list.ForwardMode = forwardMode.Value;
            if (forwardUnauthenticated.HasValue) list.ForwardUnauthenticated = forwardUnauthenticated.Value;
        });

        /// <summary>Changes a list's reply handling and scan policy; a null argument leaves that part as it is.</summary>
        /// <returns>A copy of the changed list.</returns>
        /// <exception cref="ReplyAdminException"><c>ListNotFound</c>, or the change is invalid (nothing is written).</exception>
        public ReplyList SetHandling(string name, ReplyAction? action, AutoReplyHandling? autoReplies, IEnumerable<string> forwardTo,
            ScanFailureMode? onScannerFailure = null, bool? forwardSuspectedSpam = null, bool? addSpamHeaders = null) => Change(name, list =>
        {
            if (action.HasValue) list.Action = action.Value;
            if (autoReplies.HasValue) list.AutoReplies = autoReplies.Value;
            if (forwardTo != null) list.ForwardTo = forwardTo.ToList();
            if (onScannerFailure.HasValue || forwardSuspectedSpam.HasValue || addSpamHeaders.HasValue)
            {
                var policy = list.ScanPolicy = list.ScanPolicy ?? new ScanPolicy();
                if (onScannerFailure.HasValue) policy.OnScannerFailure = onScannerFailure.Value;
                if (forwardSuspectedSpam.HasValue) policy.ForwardSuspectedSpam = forwardSuspectedSpam.Value;
                if (addSpamHeaders.HasValue) policy.AddSpamHeaders = addSpamHeaders.Value;
            }
        });

        /// <summary>Removes a list. Replies already stored stay in the reply folder; later ones for its address are stored as unrouted.</summary>
        /// <exception cref="ReplyAdminException"><c>ListNotFound</c>.</exception>
        public void Remove(string name) => _store.Update(configuration =>
        {
            var removed = configuration.Lists.RemoveAll(l => string.Equals(l.Name, name, StringComparison.OrdinalIgnoreCase));
            return removed > 0 ? removed : throw NotFound(name, _store.Path);
        });

        private ReplyList Change(string name, Action<ReplyList> change) => _store.Update(configuration =>
        {
            var list = configuration.Lists.FirstOrDefault(l => string.Equals(l.Name, name, StringComparison.OrdinalIgnoreCase))
                ?? throw NotFound(name, _store.Path);
            change(list);
            return list.Clone();
        });

        /// <summary>The error for a list name that is not configured.</summary>
        public static ReplyAdminException NotFound(string name, string path) =>
            new ReplyAdminException(ErrorIds.ListNotFound, ReplyAdminErrorKind.ObjectNotFound, $"There is no list named '{name}' in {path}.", name,
                "Get-ReplyList shows the configured lists; Add-ReplyList adds one.");
    }
}
