using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using MailKit;
using MailKit.Search;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Processing;

namespace ReplyAdmin.Engine.Imap
{
    /// <summary>
    /// An inbound IMAP mailbox as the source of replies. Handling state is kept as keywords on the source
    /// message; acknowledged messages are moved (UID MOVE) to the processed, rejected or archive folder.
    /// Safe for the workers of one run: each step runs on a connection of its own (<see cref="ImapSessionPool"/>).
    /// </summary>
    public sealed class ImapReplySource : IReplySource, ISetAsideSource, IBatchFetchSource
    {
        private readonly ImapSessionPool _sessions;
        private readonly InboundSourceSettings _settings;
        private readonly bool _readOnly;

        /// <summary>Creates the source; nothing connects until <see cref="OpenAsync"/>.</summary>
        /// <param name="settings">The inbound mailbox.</param>
        /// <param name="credential">Its login.</param>
        /// <param name="timeout">Time limit of every network operation.</param>
        /// <param name="readOnly">Look only (-WhatIf): the inbound folder is opened with EXAMINE and no folder is created.</param>
        public ImapReplySource(InboundSourceSettings settings, NetworkCredential credential, TimeSpan timeout, bool readOnly = false)
        {
            _settings = settings;
            _readOnly = readOnly;
            var endpoint = ImapEndpoint.From(settings);
            endpoint.Timeout = timeout;
            _sessions = new ImapSessionPool(endpoint, credential);
        }

        /// <inheritdoc />
        public string Description => _sessions.Endpoint.ToString();

        /// <inheritdoc />
        public Task OpenAsync(CancellationToken cancellationToken) => _sessions.UseAsync(async session =>
        {
            await InboxAsync(session, cancellationToken).ConfigureAwait(false);
            if (_readOnly) return;
            foreach (var folder in new[] { _settings.ProcessedFolder, _settings.RejectedFolder, _settings.ArchiveFolder, DeadLetterFolder }.Where(f => f != null))
                await session.OpenAsync(folder, FolderAccess.None, cancellationToken, create: true).ConfigureAwait(false);
        });

        private Task<IMailFolder> InboxAsync(ImapSession session, CancellationToken cancellationToken) =>
            session.OpenAsync(_settings.Folder, _readOnly ? FolderAccess.ReadOnly : FolderAccess.ReadWrite, cancellationToken);

        /// <inheritdoc />
        public Task<IReadOnlyList<SourceMessage>> ListAsync(CancellationToken cancellationToken) => _sessions.UseAsync<IReadOnlyList<SourceMessage>>(async session =>
        {
            var inbox = await InboxAsync(session, cancellationToken).ConfigureAwait(false);
            var uids = await session.Run(() => inbox.SearchAsync(SearchQuery.All, cancellationToken), "search the inbound folder", _settings.Folder).ConfigureAwait(false);
            var messages = new List<SourceMessage>(uids.Count);
            const int batchSize = 2000;
            for (var i = 0; i < uids.Count; i += batchSize)
            {
                var batch = uids.Skip(i).Take(batchSize).ToList();
                var summaries = await session.Run(() => inbox.FetchAsync(batch,
                    new FetchRequest(MessageSummaryItems.UniqueId | MessageSummaryItems.Size | MessageSummaryItems.Flags | MessageSummaryItems.InternalDate),
                    cancellationToken), "list the inbound folder", _settings.Folder).ConfigureAwait(false);
                foreach (var summary in summaries.Where(s => s.UniqueId.IsValid && s.Size.HasValue).GroupBy(s => s.UniqueId.Id).Select(g => g.First()).OrderBy(s => s.UniqueId.Id))
                    messages.Add(new SourceMessage(summary.UniqueId.Id.ToString(), summary.Size ?? 0,
                        Keywords.StateOf(summary.Keywords), summary.InternalDate, summary.UniqueId) { Attempts = Keywords.AttemptsOf(summary.Keywords) });
            }
            return messages;
        });

        // How often a batch's headers are fetched while other sessions keep expunging messages of it (several hosts, staff).
        private const int HeaderFetches = 3;

        /// <inheritdoc />
        public async Task LoadHeadersAsync(IReadOnlyList<SourceMessage> batch, CancellationToken cancellationToken)
        {
            if (batch.Count == 0) return;
            var byUid = new Dictionary<uint, IMessageSummary>();
            IReadOnlyList<SourceMessage> fetch = batch;
            HashSet<uint> present = null; // asked only when some message came without headers
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await FetchHeadersAsync(fetch, byUid, cancellationToken).ConfigureAwait(false);
                }
                catch (ReplyAdminException e) when (e.Scope == FailureScope.Message && attempt < HeaderFetches)
                {
                    // A message expunged by another session while the FETCH ran can leave an answer MailKit cannot parse
                    // ("Syntax error in BODY. Unexpected token: NIL"): which messages are still there decides below.
                }
                var missing = batch.Where(m => !byUid.ContainsKey(((UniqueId)m.Handle).Id)).ToList();
                if (missing.Count == 0) break;
                // No headers is what the server answers for a message that is gone; one that is still there is fetched again.
                present = await PresentAsync(missing, cancellationToken).ConfigureAwait(false);
                fetch = missing.Where(m => present.Contains(((UniqueId)m.Handle).Id)).ToList();
                if (fetch.Count == 0 || attempt == HeaderFetches) break;
            }
            foreach (var message in batch)
            {
                if (byUid.TryGetValue(((UniqueId)message.Handle).Id, out var summary))
                    message.Headers = summary.Headers;
                else if (!present.Contains(((UniqueId)message.Handle).Id))
                    message.Gone = true;
                else
                    message.HeaderError = "the server returned no headers for it";
            }
        }

        private async Task FetchHeadersAsync(IReadOnlyList<SourceMessage> messages, Dictionary<uint, IMessageSummary> byUid, CancellationToken cancellationToken)
        {
            var uids = messages.Select(m => (UniqueId)m.Handle).ToList();
            var summaries = await _sessions.UseAsync(async session =>
            {
                var inbox = await InboxAsync(session, cancellationToken).ConfigureAwait(false);
                return await session.Run(() => inbox.FetchAsync(uids, new FetchRequest(MessageSummaryItems.UniqueId | MessageSummaryItems.Headers), cancellationToken),
                    "fetch headers", _settings.Folder).ConfigureAwait(false);
            }).ConfigureAwait(false);
            // Another worker's STORE on the same folder reaches this connection as unsolicited FETCH (FLAGS) responses
            // without a UID, and MailKit returns them among the results: only answers that carry headers count.
            foreach (var summary in summaries.Where(s => s.UniqueId.IsValid && s.Headers != null))
                byUid[summary.UniqueId.Id] = summary;
        }

        // The UIDs of these messages that are still in the inbound folder (UID SEARCH UID ...).
        private Task<HashSet<uint>> PresentAsync(IReadOnlyList<SourceMessage> messages, CancellationToken cancellationToken) => _sessions.UseAsync(async session =>
        {
            var inbox = await InboxAsync(session, cancellationToken).ConfigureAwait(false);
            var uids = messages.Select(m => (UniqueId)m.Handle).ToList();
            var found = await session.Run(() => inbox.SearchAsync(SearchQuery.Uids(uids), cancellationToken), "look for messages", _settings.Folder).ConfigureAwait(false);
            return new HashSet<uint>(found.Select(u => u.Id));
        });

        // A fetch that failed for a message that is no longer there is the message being gone, not a failure.
        private async Task<Stream> OpenOrGoneAsync(SourceMessage message, Func<Task<Stream>> open, CancellationToken cancellationToken)
        {
            Stream stream;
            try
            {
                stream = await open().ConfigureAwait(false);
            }
            catch (ReplyAdminException e) when (e.Scope == FailureScope.Message && e.ErrorId != ErrorIds.SourceMessageGone)
            {
                if ((await PresentAsync(new[] { message }, cancellationToken).ConfigureAwait(false)).Count == 0)
                    throw GoneMessages.Error(message.Id, "fetch the message", e);
                throw;
            }
            // An expunged message can also come back as an empty body (BODY[] NIL) rather than an error.
            if (stream.Length == 0 && message.Size > 0 && (await PresentAsync(new[] { message }, cancellationToken).ConfigureAwait(false)).Count == 0)
            {
                stream.Dispose();
                throw GoneMessages.Error(message.Id, "fetch the message");
            }
            return stream;
        }

        /// <inheritdoc />
        public Task<Stream> OpenMessageAsync(SourceMessage message, CancellationToken cancellationToken) => OpenOrGoneAsync(message, () => _sessions.UseAsync(async session =>
        {
            var inbox = await InboxAsync(session, cancellationToken).ConfigureAwait(false);
            // BODY.PEEK: fetching does not set \Seen. The stream is read to its end before the session is given back.
            return await session.Run(() => inbox.GetStreamAsync((UniqueId)message.Handle, cancellationToken), "fetch the message", message.Id).ConfigureAwait(false);
        }), cancellationToken);

        /// <inheritdoc />
        public Task<IReadOnlyList<Stream>> OpenMessagesAsync(IReadOnlyList<SourceMessage> messages, CancellationToken cancellationToken) =>
            messages.Count == 0 ? Task.FromResult<IReadOnlyList<Stream>>(new Stream[0]) : _sessions.UseAsync<IReadOnlyList<Stream>>(async session =>
        {
            if (!(await InboxAsync(session, cancellationToken).ConfigureAwait(false) is MailKit.Net.Imap.ImapFolder inbox))
                return new Stream[messages.Count];
            var uids = messages.Select(m => (UniqueId)m.Handle).ToList();
            var byUid = new Dictionary<uint, Stream>();
            try
            {
                // One UID FETCH (BODY.PEEK[]) for the set: fetching does not set \Seen. MailKit disposes each stream after
                // the callback, so the callback takes its bytes over (without copying them where the stream is ours).
                await session.Run(() => inbox.GetStreamsAsync(uids, (folder, index, uid, stream, token) =>
                {
                    Stream kept;
                    if (stream is FetchedBody fetched)
                    {
                        kept = fetched.Detach();
                    }
                    else
                    {
                        kept = new MemoryStream((int)Math.Max(0, stream.Length - stream.Position));
                        stream.CopyTo(kept);
                        kept.Position = 0;
                    }
                    if (byUid.TryGetValue(uid.Id, out var twice)) twice.Dispose();
                    byUid[uid.Id] = kept;
                    return Task.CompletedTask;
                }, cancellationToken), $"fetch {uids.Count} messages", messages[0].Id).ConfigureAwait(false);
            }
            catch
            {
                foreach (var stream in byUid.Values) stream.Dispose();
                throw;
            }
            var streams = new Stream[messages.Count];
            for (var i = 0; i < messages.Count; i++)
            {
                if (!byUid.TryGetValue(uids[i].Id, out var stream)) continue;
                byUid.Remove(uids[i].Id);
                // An expunged message can come back as an empty body (BODY[] NIL): the message's own fetch decides.
                if (stream.Length == 0 && messages[i].Size > 0) stream.Dispose();
                else streams[i] = stream;
            }
            foreach (var stream in byUid.Values) stream.Dispose(); // answers for UIDs not asked for
            return streams;
        });

        /// <inheritdoc />
        public Task<Stream> OpenMessageStartAsync(SourceMessage message, int length, CancellationToken cancellationToken) =>
            message.Size <= length ? OpenMessageAsync(message, cancellationToken) : OpenOrGoneAsync(message, () => _sessions.UseAsync(async session =>
            {
                var inbox = await InboxAsync(session, cancellationToken).ConfigureAwait(false);
                // BODY.PEEK[]<0.length>: a partial fetch, so the rest (attachments) never crosses the wire.
                return await session.Run(() => inbox.GetStreamAsync((UniqueId)message.Handle, 0, length, cancellationToken), "fetch the start of the message", message.Id).ConfigureAwait(false);
            }), cancellationToken);

        /// <inheritdoc />
        public async Task SetStateAsync(IReadOnlyList<SourceMessage> messages, SourceState state, CancellationToken cancellationToken)
        {
            if (messages.Count == 0) return;
            var uids = messages.Select(m => (UniqueId)m.Handle).ToList();
            var request = new StoreFlagsRequest(StoreAction.Add, Keywords.ForState(state)) { Silent = true };
            await _sessions.UseAsync(async session =>
            {
                var inbox = await InboxAsync(session, cancellationToken).ConfigureAwait(false);
                await session.Run(() => inbox.StoreAsync(uids, request, cancellationToken), "record the messages' state", messages[0].Id).ConfigureAwait(false);
            }).ConfigureAwait(false);
            foreach (var message in messages) message.State |= state;
        }

        // Beside the rejected folder: "ReplyAdmin/Rejected" -> "ReplyAdmin/DeadLetter", "ReplyAdmin/Quarantine".
        private string BesideRejected(string name)
        {
            var slash = _settings.RejectedFolder.LastIndexOf('/');
            return (slash > 0 ? _settings.RejectedFolder.Substring(0, slash + 1) : "") + name;
        }

        private string DeadLetterFolder => BesideRejected("DeadLetter");

        /// <inheritdoc />
        public string SetAsidePlace => DeadLetterFolder;

        /// <inheritdoc />
        public Task<int> CountSetAsideAsync(CancellationToken cancellationToken) => _sessions.UseAsync(async session =>
        {
            IMailFolder folder;
            try
            {
                folder = await session.OpenAsync(DeadLetterFolder, FolderAccess.None, cancellationToken).ConfigureAwait(false);
            }
            catch (ImapConnectionException e) when (e.ErrorId == ErrorIds.ImapFolderNotFound)
            {
                return 0;
            }
            await session.Run(() => folder.StatusAsync(StatusItems.Count, cancellationToken), "count the set-aside messages", DeadLetterFolder).ConfigureAwait(false);
            return folder.Count;
        });

        /// <inheritdoc />
        public async Task RecordAttemptAsync(SourceMessage message, CancellationToken cancellationToken)
        {
            var next = message.Attempts + 1;
            await _sessions.UseAsync(async session =>
            {
                var inbox = await InboxAsync(session, cancellationToken).ConfigureAwait(false);
                await session.Run(() => inbox.StoreAsync((UniqueId)message.Handle, new StoreFlagsRequest(StoreAction.Add, new[] { Keywords.AttemptPrefix + next }) { Silent = true }, cancellationToken),
                "count a failed attempt", message.Id).ConfigureAwait(false);
                if (message.Attempts > 0)
                    await session.Run(() => inbox.StoreAsync((UniqueId)message.Handle, new StoreFlagsRequest(StoreAction.Remove, new[] { Keywords.AttemptPrefix + message.Attempts }) { Silent = true }, cancellationToken),
                        "count a failed attempt", message.Id).ConfigureAwait(false);
            }).ConfigureAwait(false);
            message.Attempts = next;
        }

        /// <inheritdoc />
        public async Task MoveAsync(IReadOnlyList<SourceMessage> messages, SourceDestination destination, string reason, CancellationToken cancellationToken)
        {
            if (messages.Count == 0) return;
            var path = destination == SourceDestination.DeadLetter ? DeadLetterFolder
                : destination == SourceDestination.Quarantine ? BesideRejected("Quarantine")
                : destination == SourceDestination.Rejected ? _settings.RejectedFolder
                : destination == SourceDestination.Archive && _settings.ArchiveFolder != null ? _settings.ArchiveFolder
                : _settings.ProcessedFolder;
            Task<HashSet<uint>> MoveOnceAsync(IReadOnlyList<SourceMessage> set) => _sessions.UseAsync(async session =>
            {
                var uids = set.Select(m => (UniqueId)m.Handle).ToList();
                var target = await session.OpenAsync(path, FolderAccess.None, cancellationToken, create: true).ConfigureAwait(false);
                var inbox = await InboxAsync(session, cancellationToken).ConfigureAwait(false);
                // Keywords to keep (an excluded auto-reply's class) go on first: MOVE takes them along.
                foreach (var group in set.Where(m => m.Labels != null && m.Labels.Count > 0).GroupBy(m => string.Join(" ", m.Labels)))
                {
                    var labelled = group.Select(m => (UniqueId)m.Handle).ToList();
                    var request = new StoreFlagsRequest(StoreAction.Add, group.First().Labels) { Silent = true };
                    await session.Run(() => inbox.StoreAsync(labelled, request, cancellationToken), "mark the messages' class", group.First().Id).ConfigureAwait(false);
                }
                // One UID MOVE for the set: atomic on the server, so either all are acknowledged or none.
                var map = await session.Run(() => inbox.MoveToAsync(uids, target, cancellationToken), $"move {uids.Count} message(s) to '{path}'", set[0].Id).ConfigureAwait(false);
                // UIDPLUS names the UIDs the server moved (COPYUID); one it left out was no longer there. Without UIDPLUS
                // the server cannot tell, and every message counts as moved.
                var client = await session.ClientAsync(cancellationToken).ConfigureAwait(false);
                return (client.Capabilities & MailKit.Net.Imap.ImapCapabilities.UidPlus) != 0 ? new HashSet<uint>(map.Source.Select(u => u.Id)) : null;
            });
            HashSet<uint> moved;
            var live = messages;
            try
            {
                moved = await MoveOnceAsync(live).ConfigureAwait(false);
            }
            catch (ReplyAdminException e) when (e.ErrorId != ErrorIds.SourceMessageGone && e.InnerException is MailKit.Net.Imap.ImapCommandException)
            {
                // Dovecot refuses the whole UID MOVE ("NO [EXPUNGEISSUED] Some of the requested messages no longer exist") when
                // another session (a person, another host) took one of them meanwhile: those are gone, the rest move again.
                var present = await PresentAsync(messages, cancellationToken).ConfigureAwait(false);
                if (present.Count == messages.Count) throw;
                foreach (var message in messages.Where(m => !present.Contains(((UniqueId)m.Handle).Id))) message.Gone = true;
                live = messages.Where(m => present.Contains(((UniqueId)m.Handle).Id)).ToList();
                moved = live.Count == 0 ? new HashSet<uint>() : await MoveOnceAsync(live).ConfigureAwait(false);
            }
            foreach (var message in live)
            {
                if (moved == null || moved.Contains(((UniqueId)message.Handle).Id)) message.AcknowledgedTo = path;
                else message.Gone = true;
            }
        }

        /// <summary>
        /// The server-side copy into <paramref name="mailbox"/>'s folder when this source's session can reach it: in this
        /// source's own account (the same host, port and user and the same way of logging in), or, on the same host and
        /// port, as a folder the reply account shares with this one (RFC 4314 ACL, e.g. Dovecot's
        /// <c>shared/&lt;user&gt;/&lt;folder&gt;</c>), found and checked at the first copy. Null otherwise (FETCH and APPEND).
        /// </summary>
        /// <param name="mailbox">The reply mailbox.</param>
        /// <param name="replyUidValidity">The reply folder's UIDVALIDITY as its own account sees it
        /// (<see cref="ImapReplyStore.UidValidityAsync"/>): a shared folder is used only when it is the same folder.</param>
        /// <param name="verbose">Told once whether, and why not, a shared reply folder is used.</param>
        public IServerSideCopy ServerCopyInto(ReplyMailboxSettings mailbox, Func<CancellationToken, Task<uint>> replyUidValidity = null, Action<string> verbose = null)
        {
            if (mailbox == null || _readOnly || string.IsNullOrEmpty(mailbox.Folder)) return null;
            var sameServer = string.Equals(mailbox.Host?.Trim(), _settings.Host?.Trim(), StringComparison.OrdinalIgnoreCase) && mailbox.Port == _settings.Port;
            if (!sameServer) return null;
            if (!string.Equals(mailbox.UserName, _settings.UserName, StringComparison.Ordinal))
                return replyUidValidity == null ? null : new SharedServerCopy(this, mailbox, replyUidValidity, verbose);
            var sameLogin = (mailbox.Authentication?.Method ?? AuthenticationMethod.Password) == (_settings.Authentication?.Method ?? AuthenticationMethod.Password);
            return sameLogin && !string.Equals(mailbox.Folder, _settings.Folder, StringComparison.Ordinal) ? new ServerCopy(this, mailbox.Folder, serverPath: false) : null;
        }

        private sealed class ServerCopy : IServerSideCopy
        {
            private readonly ImapReplySource _source;
            private readonly string _folder;
            private readonly bool _serverPath;

            public ServerCopy(ImapReplySource source, string folder, bool serverPath)
            {
                _source = source;
                _folder = folder;
                _serverPath = serverPath;
            }

            public Task<IReadOnlyList<uint?>> CopyAsync(IReadOnlyList<SourceMessage> messages, IReadOnlyList<IReadOnlyCollection<string>> keywords, CancellationToken cancellationToken) =>
                _source.CopyAsync(_folder, _serverPath, messages, keywords, cancellationToken);
        }

        // The reply folder as another account shares it: looked up once, at the first copy; until then, and for good when
        // it is not shared (or not as the same folder), replies are appended as before.
        private sealed class SharedServerCopy : IServerSideCopy
        {
            private readonly ImapReplySource _source;
            private readonly ReplyMailboxSettings _mailbox;
            private readonly Func<CancellationToken, Task<uint>> _replyUidValidity;
            private readonly Action<string> _verbose;
            private readonly object _gate = new object();
            private Task<ServerCopy> _found;

            public SharedServerCopy(ImapReplySource source, ReplyMailboxSettings mailbox, Func<CancellationToken, Task<uint>> replyUidValidity, Action<string> verbose)
            {
                _source = source;
                _mailbox = mailbox;
                _replyUidValidity = replyUidValidity;
                _verbose = verbose;
            }

            public async Task<IReadOnlyList<uint?>> CopyAsync(IReadOnlyList<SourceMessage> messages, IReadOnlyList<IReadOnlyCollection<string>> keywords, CancellationToken cancellationToken)
            {
                Task<ServerCopy> found;
                lock (_gate) found = _found ?? (_found = FindAsync(cancellationToken));
                ServerCopy copy;
                try
                {
                    copy = await found.ConfigureAwait(false);
                }
                catch
                {
                    // A lost connection fails this batch like any other step; the next batch looks again.
                    lock (_gate) if (_found == found) _found = null;
                    throw;
                }
                return copy == null ? null : await copy.CopyAsync(messages, keywords, cancellationToken).ConfigureAwait(false);
            }

            private async Task<ServerCopy> FindAsync(CancellationToken cancellationToken)
            {
                var (path, reason) = await _source.SharedPathAsync(_mailbox, _replyUidValidity, cancellationToken).ConfigureAwait(false);
                _verbose?.Invoke(SharedText(path, reason));
                return path == null ? null : new ServerCopy(_source, path, serverPath: true);
            }

            public async Task<string> DescribeAsync(CancellationToken cancellationToken)
            {
                var (path, reason) = await _source.SharedPathAsync(_mailbox, _replyUidValidity, cancellationToken).ConfigureAwait(false);
                return SharedText(path, reason);
            }

            private static string SharedText(string path, string reason) => path != null
                ? $"The reply folder is shared with the inbound account as '{path}': replies stored unchanged are copied on the server."
                : $"Replies are fetched and appended, not copied on the server: {reason}.";
        }

        /// <summary>
        /// How a run would store replies that go in unchanged into <paramref name="mailbox"/>'s folder, in words: copied on
        /// the server (the same account, or a folder shared with this one; looked up now) or fetched and appended, and why.
        /// For Test-ReplyImapConnection; changes nothing.
        /// </summary>
        public async Task<string> DescribeServerCopyAsync(ReplyMailboxSettings mailbox, Func<CancellationToken, Task<uint>> replyUidValidity, CancellationToken cancellationToken)
        {
            switch (ServerCopyInto(mailbox, replyUidValidity))
            {
                case ServerCopy _:
                    return "The reply folder is in the inbound account: replies stored unchanged are copied on the server.";
                case SharedServerCopy shared:
                    return await shared.DescribeAsync(cancellationToken).ConfigureAwait(false);
                default:
                    return _readOnly ? "Replies are not stored (read-only)." : "Replies are fetched and appended, not copied on the server: the reply folder is on another server, or is the inbound folder itself.";
            }
        }

        // The server's path of the reply folder in an other users' namespace of this account (<prefix><user><separator><folder>,
        // as Dovecot and Cyrus name other users' folders), when this account may read it, add messages to it and set their
        // seen flag and keywords (MYRIGHTS r, i, s, w), and it has the reply folder's UIDVALIDITY; else why not.
        private Task<(string Path, string Reason)> SharedPathAsync(ReplyMailboxSettings mailbox, Func<CancellationToken, Task<uint>> replyUidValidity, CancellationToken cancellationToken) =>
            _sessions.UseAsync<(string Path, string Reason)>(async session =>
        {
            var client = await session.ClientAsync(cancellationToken).ConfigureAwait(false);
            const MailKit.Net.Imap.ImapCapabilities needed = MailKit.Net.Imap.ImapCapabilities.Acl | MailKit.Net.Imap.ImapCapabilities.UidPlus | MailKit.Net.Imap.ImapCapabilities.Namespace;
            if ((client.Capabilities & needed) != needed)
                return (null, $"the server does not offer {needed & ~client.Capabilities} (needed to use a folder another account shares)");
            var reason = "the server has no namespace for other users' folders";
            // RFC 2342's "other users' namespaces": Dovecot reports its shared/%%u/ there, Cyrus its user.
            foreach (var space in client.OtherNamespaces)
            {
                var separator = space.DirectorySeparator;
                var prefix = string.IsNullOrEmpty(space.Path) || space.Path[space.Path.Length - 1] == separator ? space.Path : space.Path + separator;
                if (mailbox.UserName.IndexOf(separator) >= 0)
                {
                    reason = $"the user name '{mailbox.UserName}' holds the server's folder separator '{separator}'";
                    continue;
                }
                var path = prefix + mailbox.UserName + separator + mailbox.Folder.Replace('/', separator);
                var (uidValidity, refused) = await session.Run<(uint?, string)>(async () =>
                {
                    try
                    {
                        var folder = await client.GetFolderAsync(path, cancellationToken).ConfigureAwait(false);
                        var rights = await folder.GetMyAccessRightsAsync(cancellationToken).ConfigureAwait(false);
                        if (!new[] { AccessRight.OpenFolder, AccessRight.AppendMessages, AccessRight.SetMessageSeen, AccessRight.SetMessageFlags }.All(rights.Contains))
                            return (null, $"the inbound account's rights on '{path}' are '{rights}', not all of r, i, s and w");
                        await folder.StatusAsync(StatusItems.UidValidity, cancellationToken).ConfigureAwait(false);
                        return (folder.UidValidity, null);
                    }
                    catch (Exception e) when (e is FolderNotFoundException || e is MailKit.Net.Imap.ImapCommandException)
                    {
                        return (null, $"the inbound account does not see '{path}' (the reply folder is not shared with it)");
                    }
                }, $"look for the reply folder as '{path}'", path).ConfigureAwait(false);
                if (!uidValidity.HasValue)
                    reason = refused;
                else if (uidValidity.Value == await replyUidValidity(cancellationToken).ConfigureAwait(false))
                    return (path, null);
                else
                    reason = $"'{path}' is another folder than the reply folder (its UIDVALIDITY differs)";
            }
            return (null, reason);
        });

        private Task<IReadOnlyList<uint?>> CopyAsync(string folder, bool serverPath, IReadOnlyList<SourceMessage> messages, IReadOnlyList<IReadOnlyCollection<string>> keywords, CancellationToken cancellationToken) =>
            messages.Count == 0 ? Task.FromResult<IReadOnlyList<uint?>>(new uint?[0]) : _sessions.UseAsync<IReadOnlyList<uint?>>(async session =>
        {
            var client = await session.ClientAsync(cancellationToken).ConfigureAwait(false);
            // Without UIDPLUS (COPYUID) the copies cannot be found to set their keywords, nor a vanished message told apart.
            if ((client.Capabilities & MailKit.Net.Imap.ImapCapabilities.UidPlus) == 0) return null;
            var target = await session.OpenAsync(folder, FolderAccess.None, cancellationToken, serverPath: serverPath).ConfigureAwait(false);
            var inbox = await InboxAsync(session, cancellationToken).ConfigureAwait(false);
            var uids = messages.Select(m => (UniqueId)m.Handle).ToList();
            // One UID COPY for the set: atomic on the server (all or none), like the MULTIAPPEND it replaces.
            var map = await session.Run(() => inbox.CopyToAsync(uids, target, cancellationToken), $"copy {uids.Count} message(s) to '{folder}'", messages[0].Id).ConfigureAwait(false);
            var copies = new uint?[uids.Count];
            for (var i = 0; i < uids.Count; i++)
                if (map != null && map.TryGetValue(uids[i], out var copy)) copies[i] = copy.Id;
            // A copy carries the source's flags and keywords (the state keywords among them): replace them with the stored
            // reply's keywords, one STORE per distinct set (a set, not an add, so nothing of the source's stays).
            var groups = Enumerable.Range(0, uids.Count).Where(i => copies[i].HasValue)
                .GroupBy(i => string.Join(" ", keywords[i].OrderBy(k => k, StringComparer.Ordinal)));
            if (groups.Any())
            {
                var replies = await session.OpenAsync(folder, FolderAccess.ReadWrite, cancellationToken, serverPath: serverPath).ConfigureAwait(false);
                foreach (var group in groups)
                {
                    var copied = group.Select(i => new UniqueId(copies[i].Value)).ToList();
                    var request = new StoreFlagsRequest(StoreAction.Set, MessageFlags.None) { Silent = true };
                    foreach (var keyword in keywords[group.First()]) request.Keywords.Add(keyword);
                    await session.Run(() => replies.StoreAsync(copied, request, cancellationToken), "set the copies' keywords", folder).ConfigureAwait(false);
                }
            }
            return copies;
        });

        /// <inheritdoc />
        public void Dispose() => _sessions.Dispose();
    }
}
