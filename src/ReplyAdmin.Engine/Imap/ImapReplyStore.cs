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
        public async Task<uint?> FindAsync(string messageId, MimeMessage content, CancellationToken cancellationToken)
        {
            if (messageId == null && content == null) return null;
            // EXAMINE (read-only): searching must not change what staff see.
            var folder = await _session.OpenAsync(_folder, FolderAccess.ReadOnly, cancellationToken).ConfigureAwait(false);
            ContentFingerprint wanted = null;
            SearchQuery query;
            if (messageId != null)
            {
                query = SearchQuery.HeaderContains("Message-ID", messageId);
            }
            else
            {
                // No Message-ID: the candidates are the messages of (about) the size this one has on the wire; the bytes decide.
                wanted = ContentFingerprint.Of(content, cancellationToken);
                query = SearchQuery.LargerThan((int)Math.Max(0, wanted.WireLength - SizeSlack - 1))
                    .And(SearchQuery.SmallerThan((int)Math.Min(int.MaxValue, wanted.WireLength + SizeSlack + 1)));
            }
            var uids = await _session.Run(() => folder.SearchAsync(query, cancellationToken), "search the reply folder", _folder).ConfigureAwait(false);
            if (content == null)
                return uids.Count > 0 ? uids.Max(u => u.Id) : (uint?)null;
            if (uids.Count == 0)
                return null;
            wanted = wanted ?? ContentFingerprint.Of(content, cancellationToken);
            // Newest first; an interrupted run's copy is among the last appended.
            foreach (var uid in uids.OrderByDescending(u => u.Id).Take(MaxCandidates))
            {
                var candidate = uid;
                using (var stream = await _session.Run(() => folder.GetStreamAsync(candidate, cancellationToken), "read a stored copy", _folder).ConfigureAwait(false))
                {
                    if (ContentFingerprint.Of(stream).SameAs(wanted))
                        return uid.Id;
                }
            }
            return null;
        }

        // How far the server's RFC822.SIZE may be from our measure (bare CRs and other oddities of hostile input).
        private const int SizeSlack = 64;
        private const int MaxCandidates = 50;

        /// <inheritdoc />
        public async Task<IReadOnlyList<uint?>> AppendAsync(IReadOnlyList<AppendItem> items, CancellationToken cancellationToken)
        {
            if (items.Count == 0) return new uint?[0];
            var folder = await _session.OpenAsync(_folder, FolderAccess.None, cancellationToken).ConfigureAwait(false);
            // No flags: staff see every stored reply as unread.
            var requests = items.Select(item => (IAppendRequest)(item.InternalDate.HasValue
                ? new AppendRequest(item.Message, MessageFlags.None, item.Keywords, item.InternalDate.Value)
                : new AppendRequest(item.Message, MessageFlags.None, item.Keywords))).ToList();
            // MULTIAPPEND (RFC 3502) where the server has it: one transaction and one fsync for the whole list.
            var uids = await _session.Run(() => folder.AppendAsync(requests, cancellationToken),
                items.Count == 1 ? "store the message" : $"store {items.Count} messages", _folder).ConfigureAwait(false);
            return Enumerable.Range(0, items.Count).Select(i => i < uids.Count ? uids[i].Id : (uint?)null).ToList();
        }

        /// <inheritdoc />
        public void Dispose() => _session.Dispose();
    }
}
