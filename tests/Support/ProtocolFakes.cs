// In-memory stand-ins for the source, the reply folder and the relay, for the fast acknowledgement-protocol tests
// (tests/AcknowledgementProtocol.Tests.ps1). They keep state as the real adapters do (state flags at the source, copies in
// the store) and can be told to fail at any step: "Crash" ends the run there (as a kill would: nothing after it happens),
// "Fail" is a permanent failure of the message, "Lost" a transient one. The real adapters are tested against Dovecot.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using ReplyAdmin.Engine;
using ReplyAdmin.Engine.Classification;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Processing;

namespace ReplyAdminTests
{
    public sealed class Faults
    {
        private readonly Dictionary<string, (string Mode, int Times)> _planned = new Dictionary<string, (string, int)>(StringComparer.OrdinalIgnoreCase);
        public List<string> Log { get; } = new List<string>();

        /// <summary>For mode "Snapshot": the file whose lines are copied to <see cref="Snapshot"/> at the step, as a kill there would leave it.</summary>
        public string SnapshotPath { get; set; }
        public string[] Snapshot { get; private set; }

        /// <summary>Fails the next <paramref name="times"/> calls of <paramref name="step"/> ("Claim", "Append.Before", "Append.After", ...).</summary>
        public void At(string step, string mode, int times = 1) => _planned[step] = (mode, times);

        public void Clear() => _planned.Clear();

        /// <summary>Mode "Vanish": another host or a person moves the message away at that step (the step itself then goes on).</summary>
        public Action<string> Vanish { get; set; }

        public void Hit(string step, string target)
        {
            Log.Add(step);
            if (!_planned.TryGetValue(step, out var fault) || fault.Times <= 0) return;
            _planned[step] = (fault.Mode, fault.Times - 1);
            switch (fault.Mode)
            {
                case "Snapshot":
                    Snapshot = File.Exists(SnapshotPath) ? File.ReadAllLines(SnapshotPath) : new string[0];
                    return;
                case "Crash":
                    throw new ReplyAdminException("TestCrash", ReplyAdminErrorKind.ConnectionError, $"Crash at {step}.", target, scope: FailureScope.Run);
                case "Fail":
                    throw new ReplyAdminException("TestFailure", ReplyAdminErrorKind.InvalidData, $"Permanent failure at {step}.", target);
                case "Vanish":
                    Vanish?.Invoke(target);
                    return;
                case "Lost":
                    throw new ReplyAdminException("TestConnectionLost", ReplyAdminErrorKind.ConnectionError, $"Connection lost at {step}.", target);
                case "LeaseLost":
                    throw new ReplyAdminException(ErrorIds.LeaseLost, ReplyAdminErrorKind.ResourceUnavailable, $"Lease lost at {step}.", target, scope: FailureScope.Run, transient: true);
                default:
                    throw new ArgumentException(fault.Mode);
            }
        }
    }

    public sealed class FakeMessage
    {
        public string Id;
        public byte[] Bytes;
        public SourceState State;
        public int Attempts;
        public string Place = "waiting"; // or Processed, Rejected, Archive, DeadLetter
        public string Reason;
        public string[] Labels = new string[0];
        /// <summary>Header fields as an IMAP server reports them (its own reading); null to parse them from the bytes, as a file source does.</summary>
        public string ServerHeaders;
    }

    public sealed class InMemorySource : IReplySource, ISetAsideSource, IBatchFetchSource
    {
        private readonly Faults _faults;

        /// <summary>Set to send a batch's bodies in one call (as IMAP's UID FETCH of a set does); off: every body is fetched alone.</summary>
        public bool BatchFetch { get; set; }
        public int BatchFetches { get; private set; }
        public List<string> BatchFetched { get; } = new List<string>();
        public int SingleFetches { get; private set; }
        public List<FakeMessage> Messages { get; } = new List<FakeMessage>();
        public InMemorySource(Faults faults) => _faults = faults;
        public string Description => "memory";
        public Task OpenAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<IReadOnlyList<SourceMessage>> ListAsync(CancellationToken cancellationToken)
        {
            lock (Messages)
                return Task.FromResult<IReadOnlyList<SourceMessage>>(Messages.Where(m => m.Place == "waiting")
                    .Select(m => new SourceMessage(m.Id, m.Bytes.Length, m.State, null, m) { Attempts = m.Attempts }).ToList());
        }

        public Task LoadHeadersAsync(IReadOnlyList<SourceMessage> batch, CancellationToken cancellationToken)
        {
            _faults.Hit("Headers", batch[0].Id);
            foreach (var message in batch)
            {
                var fake = (FakeMessage)message.Handle;
                // As IMAP does: no headers for a message that is no longer there.
                if (fake.Place != "waiting") { message.Gone = true; continue; }
                try
                {
                    using (var stream = new MemoryStream(!string.IsNullOrEmpty(fake.ServerHeaders) ? Encoding.UTF8.GetBytes(fake.ServerHeaders + "\r\n") : fake.Bytes))
                        message.Headers = HeaderList.Load(stream);
                }
                catch (FormatException e)
                {
                    message.Headers = null;
                    message.HeaderError = e.Message;
                }
            }
            return Task.CompletedTask;
        }

        public Task<Stream> OpenMessageAsync(SourceMessage message, CancellationToken cancellationToken)
        {
            SingleFetches++;
            _faults.Hit("Load", message.Id);
            if (((FakeMessage)message.Handle).Place != "waiting")
                throw new ReplyAdminException("SourceMessageGone", ReplyAdminErrorKind.ObjectNotFound, $"Message {message.Id} is gone.", message.Id, transient: true);
            return Task.FromResult<Stream>(new MemoryStream(((FakeMessage)message.Handle).Bytes, false));
        }

        public Task<Stream> OpenMessageStartAsync(SourceMessage message, int length, CancellationToken cancellationToken) => OpenMessageAsync(message, cancellationToken);

        public Task<IReadOnlyList<Stream>> OpenMessagesAsync(IReadOnlyList<SourceMessage> messages, CancellationToken cancellationToken)
        {
            if (!BatchFetch) return Task.FromResult<IReadOnlyList<Stream>>(new Stream[messages.Count]);
            BatchFetches++;
            BatchFetched.AddRange(messages.Select(m => m.Id));
            _faults.Hit("LoadBatch", messages[0].Id);
            // As a UID FETCH of a set does: no answer for a message that is no longer there.
            return Task.FromResult<IReadOnlyList<Stream>>(messages.Select(m => ((FakeMessage)m.Handle).Place == "waiting"
                ? new MemoryStream(((FakeMessage)m.Handle).Bytes, false) : (Stream)null).ToList());
        }

        public Task SetStateAsync(IReadOnlyList<SourceMessage> messages, SourceState state, CancellationToken cancellationToken)
        {
            if (messages.Count == 0) return Task.CompletedTask;
            _faults.Hit("Mark" + state, messages[0].Id);
            foreach (var message in messages)
            {
                ((FakeMessage)message.Handle).State |= state;
                message.State |= state;
            }
            return Task.CompletedTask;
        }

        public Task RecordAttemptAsync(SourceMessage message, CancellationToken cancellationToken)
        {
            var fake = (FakeMessage)message.Handle;
            fake.Attempts++;
            message.Attempts = fake.Attempts;
            return Task.CompletedTask;
        }

        public Task MoveAsync(IReadOnlyList<SourceMessage> messages, SourceDestination destination, string reason, CancellationToken cancellationToken)
        {
            if (messages.Count == 0) return Task.CompletedTask;
            _faults.Hit("Move" + destination, messages[0].Id);
            foreach (var message in messages)
            {
                var fake = (FakeMessage)message.Handle;
                // As UID MOVE with UIDPLUS does: a message no longer there is not moved, and the answer says so.
                if (fake.Place != "waiting") { message.Gone = true; continue; }
                fake.Place = destination.ToString();
                fake.Reason = reason;
                if (message.Labels != null) fake.Labels = fake.Labels.Concat(message.Labels).ToArray();
                message.AcknowledgedTo = destination.ToString();
            }
            _faults.Hit("Moved" + destination, messages[0].Id);
            return Task.CompletedTask;
        }

        public string SetAsidePlace => "memory DeadLetter";

        public Task<int> CountSetAsideAsync(CancellationToken cancellationToken)
        {
            lock (Messages) return Task.FromResult(Messages.Count(m => m.Place == "DeadLetter"));
        }

        public void Dispose() { }
    }

    public sealed class StoredCopy
    {
        public uint Uid;
        public string MessageId;
        public byte[] Bytes;
        public string[] Keywords;
        public string Text => Encoding.UTF8.GetString(Bytes);
    }

    /// <summary>
    /// The reply folder, written under a lease: "Confirm" is the check after each APPEND ("LeaseLost" fails it). With
    /// <see cref="LateTwins"/> set, the next APPEND finds the same replies stored just before it, as a host that stalled
    /// mid-APPEND past its lease (or the host that took over from it) leaves them.
    /// </summary>
    public sealed class InMemoryStore : ILeasedReplyStore
    {
        /// <summary>How many of the next APPENDs another host's copies of the same replies precede.</summary>
        public int LateTwins { get; set; }

        private readonly Faults _faults;
        private uint _next = 1;
        public List<StoredCopy> Copies { get; } = new List<StoredCopy>();
        public int AppendCommands { get; private set; }
        public InMemoryStore(Faults faults) => _faults = faults;
        public string Description => "memory reply folder";
        public long? ServerAppendLimit { get; set; }
        /// <summary>Refuses (permanently) an unreadable message stored as it came, as a strict server would.</summary>
        public bool RefuseUnreadable { get; set; }
        public Task OpenAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<uint?> FindAsync(string messageId, MimeMessage content, CancellationToken cancellationToken)
        {
            _faults.Hit("Find", messageId);
            var wanted = content == null ? null : Normalized(Bytes(content));
            lock (Copies)
            {
                var found = Copies.Where(c => (messageId == null || c.MessageId == messageId) && (wanted == null || Normalized(c.Bytes).SequenceEqual(wanted)))
                    .OrderByDescending(c => c.Uid).FirstOrDefault();
                return Task.FromResult(found?.Uid);
            }
        }

        public Task<IReadOnlyList<uint?>> AppendAsync(IReadOnlyList<AppendItem> items, CancellationToken cancellationToken)
        {
            _faults.Hit("Append.Before", items[0].Message.MessageId);
            if (RefuseUnreadable && items.Any(i => i.Message.Headers.Contains("X-ReplyAdmin-Unreadable")))
                throw new ReplyAdminException("ImapCommandFailed", ReplyAdminErrorKind.InvalidData, "The server refused the message (NO).", "reply folder");
            var uids = new List<uint?>();
            lock (Copies)
            {
                AppendCommands++;
                if (LateTwins > 0)
                {
                    LateTwins--;
                    foreach (var item in items)
                        Copies.Add(new StoredCopy { Uid = _next++, MessageId = item.Message.MessageId, Bytes = Bytes(item.Message), Keywords = item.Keywords.ToArray() });
                }
                foreach (var item in items)
                {
                    Copies.Add(new StoredCopy { Uid = _next, MessageId = item.Message.MessageId, Bytes = Bytes(item.Message), Keywords = item.Keywords.ToArray() });
                    uids.Add(_next++);
                }
            }
            // The server committed the copies, the answer never arrived.
            _faults.Hit("Append.After", items[0].Message.MessageId);
            return Task.FromResult<IReadOnlyList<uint?>>(uids);
        }

        public Task ConfirmLeaseAsync(CancellationToken cancellationToken)
        {
            _faults.Hit("Confirm", null);
            return Task.CompletedTask;
        }

        public Task<uint?> RemoveIfStoredEarlierAsync(uint uid, string messageId, MimeMessage content, CancellationToken cancellationToken)
        {
            _faults.Hit("RemoveTwin", messageId);
            var wanted = content == null ? null : Normalized(Bytes(content));
            lock (Copies)
            {
                var earlier = Copies.Where(c => c.Uid < uid && (messageId == null || c.MessageId == messageId) && (wanted == null || Normalized(c.Bytes).SequenceEqual(wanted)))
                    .OrderByDescending(c => c.Uid).FirstOrDefault();
                if (earlier == null) return Task.FromResult<uint?>(null);
                Copies.RemoveAll(c => c.Uid == uid);
                return Task.FromResult<uint?>(earlier.Uid);
            }
        }

        /// <summary>A copy made on the server (see <see cref="InMemoryServerCopy"/>).</summary>
        public uint AddCopy(string messageId, byte[] bytes, string[] keywords)
        {
            lock (Copies)
            {
                Copies.Add(new StoredCopy { Uid = _next, MessageId = messageId, Bytes = bytes, Keywords = keywords });
                return _next++;
            }
        }

        // As the IMAP store's recovery compares (ContentFingerprint): without CRs and trailing line ends, so a copy made
        // on the server from the source's bytes and one written from the loaded message compare alike.
        private static byte[] Normalized(byte[] bytes)
        {
            var list = bytes.Where(b => b != (byte)'\r').ToList();
            while (list.Count > 0 && list[list.Count - 1] == (byte)'\n') list.RemoveAt(list.Count - 1);
            return list.ToArray();
        }

        private static byte[] Bytes(MimeMessage message)
        {
            using (var stream = new MemoryStream())
            {
                message.WriteTo(stream);
                return stream.ToArray();
            }
        }

        public void Dispose() { }
    }

    /// <summary>
    /// The reply folder in the source's own account: UID COPY on the "server" (the source's bytes go into the store as
    /// they are; a message no longer waiting is not copied). Faults: "Copy.Before", "Copy.After" (copied, answer lost).
    /// </summary>
    public sealed class InMemoryServerCopy : IServerSideCopy
    {
        private readonly Faults _faults;
        private readonly InMemoryStore _store;
        public int CopyCommands { get; private set; }
        public InMemoryServerCopy(Faults faults, InMemoryStore store)
        {
            _faults = faults;
            _store = store;
        }

        public Task<IReadOnlyList<uint?>> CopyAsync(IReadOnlyList<SourceMessage> messages, IReadOnlyList<IReadOnlyCollection<string>> keywords, CancellationToken cancellationToken)
        {
            _faults.Hit("Copy.Before", messages[0].Id);
            var uids = new List<uint?>();
            lock (_store.Copies)
            {
                CopyCommands++;
                for (var i = 0; i < messages.Count; i++)
                {
                    var fake = (FakeMessage)messages[i].Handle;
                    if (fake.Place != "waiting") { uids.Add(null); continue; }
                    string id;
                    using (var stream = new MemoryStream(fake.Bytes, false))
                        id = HeaderList.Load(stream)["Message-ID"]?.Trim().Trim('<', '>');
                    uids.Add(_store.AddCopy(string.IsNullOrEmpty(id) ? null : id, fake.Bytes, keywords[i].ToArray()));
                }
            }
            _faults.Hit("Copy.After", messages[0].Id);
            return Task.FromResult<IReadOnlyList<uint?>>(uids);
        }
    }

    public sealed class RecordingForwarder : IReplyForwarder
    {
        private readonly Faults _faults;
        public List<string> Sent { get; } = new List<string>();
        public RecordingForwarder(Faults faults) => _faults = faults;

        public Task ForwardAsync(MimeMessage message, IReadOnlyList<string> recipients, CancellationToken cancellationToken, string authenticationResults = null)
        {
            _faults.Hit("Forward.Before", message.MessageId);
            lock (Sent) Sent.Add(message.MessageId + " -> " + string.Join(",", recipients));
            // The relay accepted it (250 after DATA), the mark never got recorded.
            _faults.Hit("Forward.After", message.MessageId);
            return Task.CompletedTask;
        }

        public void Dispose() { }
    }

    public sealed class CollectingObserver : IProcessingObserver
    {
        public List<ProcessingResult> Results { get; } = new List<ProcessingResult>();
        public List<string> Warnings { get; } = new List<string>();
        public bool VerboseEnabled => false;
        public void Verbose(string message) { }
        public void Warning(string message) { lock (Warnings) Warnings.Add(message); }
        public void Progress(int done, int total, string current) { }
        public void Result(ProcessingResult result) { lock (Results) Results.Add(result); }
    }

    /// <summary>One source, one reply folder, one relay, kept across runs; each run is a fresh processor, as after a restart.</summary>
    public sealed class ProtocolHarness
    {
        public Faults Faults { get; } = new Faults();
        public InMemorySource Source { get; }
        public InMemoryStore Store { get; }
        public RecordingForwarder Relay { get; }
        public List<ReplyList> Lists { get; } = new List<ReplyList>();
        public CollectingObserver LastRun { get; private set; }
        public Exception LastError { get; private set; }
        public int MaxAttempts { get; set; } = 5;
        public int ThrottleLimit { get; set; } = 1;
        public long MaxMessageSize { get; set; } = ReplyMailboxSettings.DefaultMaxMessageSize;
        /// <summary>Where each run writes its journal; null for none.</summary>
        public string JournalDirectory { get; set; }
        public ProcessingSummary LastSummary { get; private set; }

        /// <summary>Set (<see cref="UseServerCopy"/>) to run as if the reply folder were in the source's own account.</summary>
        public InMemoryServerCopy ServerCopy { get; private set; }
        public void UseServerCopy() => ServerCopy = new InMemoryServerCopy(Faults, Store);

        public ProtocolHarness()
        {
            Source = new InMemorySource(Faults);
            Store = new InMemoryStore(Faults);
            Relay = new RecordingForwarder(Faults);
            // A "Vanish" fault moves the message the step works on (by source id or Message-ID) to a folder of its own.
            Faults.Vanish = target =>
            {
                foreach (var m in Source.Messages.Where(m => m.Place == "waiting" && (m.Id == target || Encoding.UTF8.GetString(m.Bytes).Contains("<" + target + ">"))))
                    m.Place = "Elsewhere";
            };
        }

        public void AddList(string name, string address, string forwardTo = null, bool excludeAutoReplies = false) => Lists.Add(new ReplyList
        {
            Name = name,
            Address = address,
            Action = forwardTo == null ? ReplyAction.StoreInImap : ReplyAction.ForwardAndStoreInImap,
            AutoReplies = excludeAutoReplies ? AutoReplyHandling.Exclude : AutoReplyHandling.Include,
            ForwardTo = forwardTo == null ? new List<string>() : new List<string> { forwardTo },
        });

        /// <summary>A reply to <paramref name="to"/>; <paramref name="messageId"/> null for none; <paramref name="extraHeaders"/> e.g. "Auto-Submitted: auto-replied".</summary>
        public FakeMessage AddMessage(string id, string to, string messageId, string extraHeaders = null, int bodyBytes = 200)
        {
            var text = $"From: Customer <customer@example.test>\r\nTo: {to}\r\nSubject: Reply {id}\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n" +
                (messageId != null ? $"Message-ID: <{messageId}>\r\n" : "") + (extraHeaders != null ? extraHeaders + "\r\n" : "") +
                "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + new string('x', bodyBytes) + "\r\n";
            var message = new FakeMessage { Id = id, Bytes = Encoding.UTF8.GetBytes(text) };
            Source.Messages.Add(message);
            return message;
        }

        /// <summary>One run; a run-ending error is kept in <see cref="LastError"/> as a terminating error would be shown.</summary>
        public ProcessingSummary Run(bool whatIf = false)
        {
            LastRun = new CollectingObserver();
            LastError = null;
            var options = new ProcessingOptions { MaxAttempts = MaxAttempts, ThrottleLimit = ThrottleLimit, WhatIf = whatIf, MaxMessageSize = MaxMessageSize };
            var journal = JournalDirectory != null && !whatIf ? new Journal(JournalDirectory) : null;
            var processor = new ReplyProcessor(Lists, new ReplyClassifier(), Source, Store, Relay, LastRun, options, journal, serverCopy: ServerCopy);
            try
            {
                return LastSummary = processor.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
            catch (ReplyAdminException e)
            {
                LastError = e;
                return LastSummary = null;
            }
            finally
            {
                journal?.Dispose();
            }
        }

        /// <summary>A message of exactly these bytes (UTF-8).</summary>
        public FakeMessage AddRaw(string id, string text, string serverHeaders = null)
        {
            var message = new FakeMessage { Id = id, Bytes = Encoding.UTF8.GetBytes(text), ServerHeaders = string.IsNullOrEmpty(serverHeaders) ? null : serverHeaders };
            Source.Messages.Add(message);
            return message;
        }

        public int CopiesOf(string messageId) => Store.Copies.Count(c => c.MessageId == messageId);
        public ProcessingResult ResultOf(string id) => LastRun.Results.LastOrDefault(r => r.SourceId == id);
        public FakeMessage MessageOf(string id) => Source.Messages.Single(m => m.Id == id);
    }
}
