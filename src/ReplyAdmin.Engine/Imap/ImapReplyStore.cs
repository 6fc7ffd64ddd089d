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
    /// changes or removes what is already there, but for a copy of its own that turns out to be a later twin
    /// (<see cref="RemoveIfStoredEarlierAsync"/>). Safe for the workers of one run: each step runs on a connection
    /// of its own (<see cref="ImapSessionPool"/>).
    /// </summary>
    public sealed class ImapReplyStore : IReplyStore
    {
        private readonly ImapSessionPool _sessions;
        private readonly string _folder;

        /// <summary>Creates the store; nothing connects until <see cref="OpenAsync"/>.</summary>
        public ImapReplyStore(ReplyMailboxSettings settings, NetworkCredential credential, TimeSpan timeout)
        {
            var endpoint = ImapEndpoint.From(settings);
            endpoint.Timeout = timeout;
            _sessions = new ImapSessionPool(endpoint, credential);
            _folder = settings.Folder;
        }

        /// <inheritdoc />
        public string Description => _sessions.Endpoint.ToString();

        /// <inheritdoc />
        public long? ServerAppendLimit { get; private set; }

        /// <inheritdoc />
        public Task OpenAsync(CancellationToken cancellationToken) => _sessions.UseAsync(async session =>
        {
            await session.OpenAsync(_folder, FolderAccess.None, cancellationToken).ConfigureAwait(false);
            var client = await session.ClientAsync(cancellationToken).ConfigureAwait(false);
            ServerAppendLimit = client.AppendLimit;
        });

        /// <summary>The reply folder's UIDVALIDITY: tells whether a folder seen from another account is this very one.</summary>
        public Task<uint> UidValidityAsync(CancellationToken cancellationToken) => _sessions.UseAsync(async session =>
        {
            var folder = await session.OpenAsync(_folder, FolderAccess.None, cancellationToken).ConfigureAwait(false);
            // An open folder knows it from its SELECT; STATUS is for folders that are not selected.
            if (!folder.IsOpen)
                await session.Run(() => folder.StatusAsync(StatusItems.UidValidity, cancellationToken), "read the folder's UIDVALIDITY", _folder).ConfigureAwait(false);
            return folder.UidValidity;
        });

        /// <inheritdoc />
        public Task<uint?> FindAsync(string messageId, MimeMessage content, CancellationToken cancellationToken) =>
            messageId == null && content == null ? Task.FromResult<uint?>(null) : _sessions.UseAsync(session => FindAsync(session, messageId, content, uint.MaxValue, cancellationToken));

        /// <inheritdoc />
        public Task<uint?> RemoveIfStoredEarlierAsync(uint uid, string messageId, MimeMessage content, CancellationToken cancellationToken) =>
            messageId == null && content == null ? Task.FromResult<uint?>(null) : _sessions.UseAsync(async session =>
        {
            var earlier = await FindAsync(session, messageId, content, uid, cancellationToken).ConfigureAwait(false);
            if (!earlier.HasValue) return null;
            // UID EXPUNGE (UIDPLUS) removes exactly this copy; a plain EXPUNGE would also remove what staff marked \Deleted.
            var client = await session.ClientAsync(cancellationToken).ConfigureAwait(false);
            if ((client.Capabilities & MailKit.Net.Imap.ImapCapabilities.UidPlus) == 0) return null;
            var folder = await session.OpenAsync(_folder, FolderAccess.ReadWrite, cancellationToken).ConfigureAwait(false);
            var later = new[] { new UniqueId(uid) };
            await session.Run(() => folder.StoreAsync(later, new StoreFlagsRequest(StoreAction.Add, MessageFlags.Deleted) { Silent = true }, cancellationToken),
                "mark the later twin deleted", _folder).ConfigureAwait(false);
            await session.Run(() => folder.ExpungeAsync(later, cancellationToken), "remove the later twin", _folder).ConfigureAwait(false);
            return earlier;
        });

        // The newest copy below UID <paramref name="below"/>.
        private async Task<uint?> FindAsync(ImapSession session, string messageId, MimeMessage content, uint below, CancellationToken cancellationToken)
        {
            // EXAMINE (read-only): searching must not change what staff see.
            var folder = await session.OpenAsync(_folder, FolderAccess.ReadOnly, cancellationToken).ConfigureAwait(false);
            ContentFingerprint wanted = null;
            IList<UniqueId> uids = null;
            // A Message-ID of any length may arrive; servers limit a command's arguments (Dovecot: "Too long argument").
            // A long one, or one the server refuses to search for, gives way to the search by size, and the bytes decide.
            if (messageId != null && (messageId.Length <= MaxSearchedIdLength || content == null))
            {
                try
                {
                    uids = await session.Run(() => folder.SearchAsync(SearchQuery.HeaderContains("Message-ID", messageId), cancellationToken), "search the reply folder", _folder).ConfigureAwait(false);
                }
                catch (ReplyAdminException e) when (content != null && e.Scope == FailureScope.Message && !e.Transient)
                {
                    uids = null;
                }
            }
            if (uids == null)
            {
                // No usable Message-ID: the candidates are the messages of (about) the size this one has on the wire; the bytes decide.
                wanted = ContentFingerprint.Of(content, cancellationToken);
                var bySize = SearchQuery.LargerThan((int)Math.Max(0, wanted.WireLength - SizeSlack - 1))
                    .And(SearchQuery.SmallerThan((int)Math.Min(int.MaxValue, wanted.WireLength + SizeSlack + 1)));
                uids = await session.Run(() => folder.SearchAsync(bySize, cancellationToken), "search the reply folder", _folder).ConfigureAwait(false);
            }
            uids = uids.Where(u => u.Id < below).ToList();
            if (content == null)
                return uids.Count > 0 ? uids.Max(u => u.Id) : (uint?)null;
            if (uids.Count == 0)
                return null;
            wanted = wanted ?? ContentFingerprint.Of(content, cancellationToken);
            // Newest first; an interrupted run's copy is among the last appended.
            foreach (var uid in uids.OrderByDescending(u => u.Id).Take(MaxCandidates))
            {
                var candidate = uid;
                using (var stream = await session.Run(() => folder.GetStreamAsync(candidate, cancellationToken), "read a stored copy", _folder).ConfigureAwait(false))
                {
                    if (ContentFingerprint.Of(stream).SameAs(wanted))
                        return uid.Id;
                }
            }
            return null;
        }

        // Longer Message-IDs are not searched for: well under the argument limits of common servers (Dovecot refuses 100 KB).
        private const int MaxSearchedIdLength = 990;
        // How far the server's RFC822.SIZE may be from our measure (bare CRs and other oddities of hostile input).
        private const int SizeSlack = 64;
        // Newest first, as many as the batches a run had in flight when it was interrupted can hold (every worker's
        // MULTIAPPEND of at most one batch), with room for a few more.
        private const int MaxCandidates = ProcessingOptions.MaxThrottleLimit * ProcessingOptions.BatchSize + 100;

        /// <inheritdoc />
        public async Task<IReadOnlyList<uint?>> AppendAsync(IReadOnlyList<AppendItem> items, CancellationToken cancellationToken)
        {
            if (items.Count == 0) return new uint?[0];
            // No flags: staff see every stored reply as unread.
            var requests = items.Select(item => (IAppendRequest)(item.InternalDate.HasValue
                ? new AppendRequest(item.Message, MessageFlags.None, item.Keywords, item.InternalDate.Value)
                : new AppendRequest(item.Message, MessageFlags.None, item.Keywords))).ToList();
            // MULTIAPPEND (RFC 3502) where the server has it: one transaction and one fsync for the whole list.
            var uids = await _sessions.UseAsync(async session =>
            {
                var folder = await session.OpenAsync(_folder, FolderAccess.None, cancellationToken).ConfigureAwait(false);
                return await session.Run(() => folder.AppendAsync(requests, cancellationToken),
                    items.Count == 1 ? "store the message" : $"store {items.Count} messages", _folder).ConfigureAwait(false);
            }).ConfigureAwait(false);
            return Enumerable.Range(0, items.Count).Select(i => i < uids.Count ? uids[i].Id : (uint?)null).ToList();
        }

        /// <inheritdoc />
        public void Dispose() => _sessions.Dispose();
    }
}
