using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using MailKit;
using MailKit.Search;
using MimeKit;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Processing;

namespace ReplyAdmin.Engine.Imap
{
    /// <summary>
    /// The shared reply folder on IMAP. Adds messages (APPEND, no flags, so staff see them unread) and never
    /// changes or removes what is already there.
    /// </summary>
    public sealed class ImapReplyStore : IReplyStore
    {
        private readonly ImapSession _session;
        private readonly string _folder;

        /// <summary>Creates the store; nothing connects until <see cref="OpenAsync"/>.</summary>
        public ImapReplyStore(ReplyMailboxSettings settings, NetworkCredential credential, TimeSpan timeout)
        {
            var endpoint = ImapEndpoint.From(settings);
            endpoint.Timeout = timeout;
            _session = new ImapSession(endpoint, credential);
            _folder = settings.Folder;
        }

        /// <inheritdoc />
        public string Description => _session.Endpoint.ToString();

        /// <inheritdoc />
        public long? ServerAppendLimit { get; private set; }

        /// <inheritdoc />
        public async Task OpenAsync(CancellationToken cancellationToken)
        {
            await _session.OpenAsync(_folder, FolderAccess.None, cancellationToken).ConfigureAwait(false);
            var client = await _session.ClientAsync(cancellationToken).ConfigureAwait(false);
            ServerAppendLimit = client.AppendLimit;
        }

        /// <inheritdoc />
        public async Task<uint?> FindAsync(string messageId, CancellationToken cancellationToken)
        {
            // EXAMINE (read-only): searching must not change what staff see.
            var folder = await _session.OpenAsync(_folder, FolderAccess.ReadOnly, cancellationToken).ConfigureAwait(false);
            var uids = await _session.Run(() => folder.SearchAsync(SearchQuery.HeaderContains("Message-ID", messageId), cancellationToken),
                "search the reply folder", _folder).ConfigureAwait(false);
            return uids.Count > 0 ? uids.Max(u => u.Id) : (uint?)null;
        }

        /// <inheritdoc />
        public async Task<uint?> AppendAsync(MimeMessage message, IReadOnlyCollection<string> keywords, DateTimeOffset? internalDate, CancellationToken cancellationToken)
        {
            var folder = await _session.OpenAsync(_folder, FolderAccess.None, cancellationToken).ConfigureAwait(false);
            var request = internalDate.HasValue
                ? new AppendRequest(message, MessageFlags.None, keywords, internalDate.Value)
                : new AppendRequest(message, MessageFlags.None, keywords);
            var uid = await _session.Run(() => folder.AppendAsync(request, cancellationToken), "store the message", _folder).ConfigureAwait(false);
            return uid?.Id;
        }

        /// <inheritdoc />
        public void Dispose() => _session.Dispose();
    }
}
