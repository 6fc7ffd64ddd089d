using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using ReplyAdmin.Engine.Classification;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>
    /// The body of one source message, loaded at most once and only when needed: the start for classification, the whole
    /// message for storing and forwarding. Bodies stay streams of the original bytes; nothing is copied or re-encoded.
    /// </summary>
    internal sealed class MessageLoader : IDisposable
    {
        // The classifier reads the first text parts, which sit at the start of a message: an IMAP source sends
        // only this much of a larger one, so an out-of-office reply with attachments costs no download of them.
        internal const int ClassificationBytes = 16 * 1024;

        private readonly IReplySource _source;
        private readonly SourceMessage _message;
        private readonly CancellationToken _cancellationToken;
        private Stream _stream;
        private Stream _start;
        private MimeMessage _parsed;
        private MimeMessage _classified;
        private MimeMessage _enclosed;
        private ExceptionDispatchInfo _startFailure;

        public MessageLoader(IReplySource source, SourceMessage message, CancellationToken cancellationToken)
        {
            _source = source;
            _message = message;
            _cancellationToken = cancellationToken;
        }

        /// <summary>The verdict on the headers alone, where the run classified them before loading anything; null otherwise.</summary>
        public ReplyClassification HeaderVerdict { get; set; }

        /// <summary>
        /// Fetches the starts the classifier will read (see <see cref="ReplyClassification.BodyWanted"/>) ahead of it: the
        /// messages the start covers whole in one command where the source allows, the others one by one. The classifier
        /// asks synchronously from inside its rules; loaded here, it never waits on the network with a thread held (on a
        /// socket's own thread that wait could never end). A failure is kept and thrown where the classifier asks.
        /// </summary>
        public static async Task LoadStartsAsync(IReadOnlyList<MessageLoader> loaders, CancellationToken cancellationToken)
        {
            var whole = loaders.Where(l => l._message.Size <= ClassificationBytes && !l.HasOriginal).ToList();
            if (whole.Count > 1 && whole[0]._source is IBatchFetchSource batch)
            {
                IReadOnlyList<Stream> streams = null;
                try
                {
                    streams = await batch.OpenMessagesAsync(whole.Select(l => l._message).ToList(), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (!(e is OperationCanceledException))
                {
                    // Left to the fetches one by one, which tell a gone message from a failure.
                }
                for (var i = 0; streams != null && i < whole.Count; i++)
                    if (streams[i] != null) whole[i].Provide(streams[i]);
            }
            foreach (var loader in loaders)
                await loader.LoadStartAsync().ConfigureAwait(false);
        }

        private async Task LoadStartAsync()
        {
            if (_stream != null || _start != null || _startFailure != null) return;
            try
            {
                var stream = await _source.OpenMessageStartAsync(_message, ClassificationBytes, _cancellationToken).ConfigureAwait(false);
                if (stream.Length >= _message.Size) _stream = stream; // the whole message: kept for storing
                else _start = stream;
            }
            catch (Exception e)
            {
                _startFailure = ExceptionDispatchInfo.Capture(e);
            }
        }

        /// <summary>MimeKit's full parse of the message's start (of all of it where the source sends no less), for the classifier.</summary>
        /// <exception cref="InvalidOperationException">The start was not loaded first (<see cref="LoadStartsAsync"/>).</exception>
        public MimeMessage LoadForClassification()
        {
            if (_classified != null) return _classified;
            _startFailure?.Throw();
            if (_stream == null && _start == null)
                throw new InvalidOperationException($"The start of message {_message.Id} was not loaded before classifying: call LoadStartsAsync first.");
            var stream = _stream ?? _start;
            stream.Position = 0;
            _classified = MessageHeaderReader.ReadMessage(stream, persistent: true);
            return _classified;
        }

        /// <summary>The whole message's original bytes (seekable), for the content scanners; the loader keeps and disposes it.</summary>
        public async Task<Stream> OpenOriginalAsync()
        {
            if (_stream == null)
                _stream = await _source.OpenMessageAsync(_message, _cancellationToken).ConfigureAwait(false);
            return _stream;
        }

        /// <summary>True once the whole message is loaded (by the classifier's look at a small message, a scan, or a batch fetch).</summary>
        public bool HasOriginal => _stream != null;

        /// <summary>The whole message's original bytes, fetched for a batch (<see cref="IBatchFetchSource"/>); the loader disposes it.</summary>
        public void Provide(Stream original)
        {
            if (_stream != null) original.Dispose();
            else _stream = original;
        }

        /// <summary>The whole message with its original bytes, for storing and forwarding.</summary>
        public async Task<MimeMessage> LoadAsync()
        {
            if (_parsed != null) return _parsed;
            await OpenOriginalAsync().ConfigureAwait(false);
            _stream.Position = 0;
            // The body stays in the stream: nothing is copied or re-encoded, and the original bytes are written back.
            _parsed = await RawMessage.LoadAsync(_stream, _message.Headers, _cancellationToken).ConfigureAwait(false);
            return _parsed;
        }

        /// <summary>
        /// A message whose headers cannot be parsed, as it came: its bytes unchanged (line ends made CRLF) as the body of a
        /// message with <paramref name="headers"/> of ours, so that a mail client shows it whatever it holds.
        /// </summary>
        public async Task<MimeMessage> LoadEnclosedAsync(HeaderList headers)
        {
            if (_enclosed != null) return _enclosed;
            if (_stream == null)
                _stream = await _source.OpenMessageAsync(_message, _cancellationToken).ConfigureAwait(false);
            _enclosed = RawMessage.Enclose(_stream, headers);
            return _enclosed;
        }

        /// <summary>Lets go of the body (a batch keeps none it is done with).</summary>
        public void Dispose()
        {
            _classified?.Dispose();
            _parsed?.Dispose();
            _enclosed?.Dispose();
            _enclosed = null;
            _stream?.Dispose();
            _start?.Dispose();
            _classified = _parsed = null;
            _stream = _start = null;
        }
    }

    /// <summary>One message of a run: what was decided for it, how far this run got, and its body once loaded.</summary>
    internal sealed class WorkItem : IDisposable
    {
        public WorkItem(SourceMessage message, ProcessingResult result, MessageLoader body)
        {
            Message = message;
            Result = result;
            Body = body;
        }

        public SourceMessage Message { get; }
        public ProcessingResult Result { get; }
        public MessageLoader Body { get; }
        public RoutingDecision Decision { get; set; }

        /// <summary>What the content scan decided; null when nothing was scanned.</summary>
        public Scanning.ScanDecision Scan { get; set; }

        /// <summary>How the reply is forwarded (the sender check's decision); null: unchanged.</summary>
        public SenderAuthentication.ForwardPlan Forward { get; set; }

        /// <summary>What is stored in the reply folder for it: the reply itself, or for a rejected one the notice.</summary>
        public StoredContent Content { get; set; }

        /// <summary>The copy (or notice) is in the reply folder and marked stored at the source, by this run or an earlier one.</summary>
        public bool StoreSettled { get; set; }

        /// <summary>A copy exists in the reply folder (appended or found by this run), not yet marked at the source.</summary>
        public bool HasCopy { get; set; }

        /// <summary>The forward step is settled: forwarded and marked, by this run or an earlier one.</summary>
        public bool ForwardSettled { get; set; }

        /// <summary>Acknowledged at the source, or set aside: nothing more to do for it.</summary>
        public bool Done { get; set; }

        /// <summary>Still to be acted on: decided, not failed, not done.</summary>
        public bool Live => !Done && Decision != null && Result.Outcome != ReplyOutcome.Failed && Result.Outcome != ReplyOutcome.Gone;

        public void Dispose() => Body.Dispose();
    }

    /// <summary>What the store step puts in the reply folder for one message, and how a recovery search recognises it.</summary>
    internal sealed class StoredContent
    {
        public StoredContent(string verb, string identity, bool verifyContent, Func<Task<MimeMessage>> load, DateTimeOffset? internalDate)
        {
            Verb = verb;
            Identity = identity;
            VerifyContent = verifyContent;
            Load = load;
            InternalDate = internalDate;
        }

        /// <summary>"Stored" or "Notice stored", for the result's actions.</summary>
        public string Verb { get; }

        /// <summary>The Message-ID a recovery search looks for (null when the message has none).</summary>
        public string Identity { get; }

        /// <summary>
        /// True when a found candidate must also have the same bytes (a reply: another message may share its Message-ID);
        /// false for notices, whose derived Message-ID is unique and whose Date differs each time.
        /// </summary>
        public bool VerifyContent { get; }

        public Func<Task<MimeMessage>> Load { get; }

        /// <summary>What is stored instead when this content cannot be loaded (or, with <see cref="RefusalFallsBack"/>, the server refuses it); null for none.</summary>
        public StoredContent Fallback { get; set; }

        /// <summary>True when the server refusing this content means storing <see cref="Fallback"/> instead (not a failure).</summary>
        public bool RefusalFallsBack { get; set; }

        /// <summary>The decision that goes with storing this content when it is used as a fallback; null to keep the item's.</summary>
        public RoutingDecision Decision { get; set; }

        public DateTimeOffset? InternalDate { get; }

        /// <summary>
        /// True for the reply itself with its original bytes and nothing added: what the reply folder may take as a copy
        /// made on the server (<see cref="IServerSideCopy"/>) instead of an APPEND.
        /// </summary>
        public bool Unchanged { get; set; }

        /// <summary>True when loading this content reads the source message's body (the reply itself, or the original enclosed).</summary>
        public bool ReadsSource { get; set; }
    }
}
