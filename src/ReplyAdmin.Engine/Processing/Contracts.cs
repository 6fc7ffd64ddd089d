using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>
    /// How far the handling of a source message got. Kept at the source (IMAP keywords, or the file's name in
    /// the in-flight directory), so a run after a crash resumes where the last one stopped.
    /// </summary>
    [Flags]
    public enum SourceState
    {
        /// <summary>Not touched yet.</summary>
        None = 0,
        /// <summary>A run started handling it; the destination may or may not hold a copy.</summary>
        Claimed = 1,
        /// <summary>The reply folder confirmed the copy (APPEND succeeded).</summary>
        Stored = 2,
        /// <summary>The SMTP relay accepted the forward.</summary>
        Forwarded = 4,
    }

    /// <summary>Where a handled source message goes.</summary>
    public enum SourceDestination
    {
        /// <summary>Every action succeeded.</summary>
        Processed,
        /// <summary>Too large to store or forward.</summary>
        Rejected,
        /// <summary>An excluded auto-generated message (falls back to Processed when no archive is configured).</summary>
        Archive,
        /// <summary>A scanner found a virus: set aside (a <c>Quarantine</c> folder beside Rejected), with the reason.</summary>
        Quarantine,
        /// <summary>Failed permanently <see cref="ProcessingOptions.MaxAttempts"/> times: set aside (a <c>DeadLetter</c> folder beside Rejected), with the reason.</summary>
        DeadLetter,
    }

    /// <summary>A message waiting at the source: its identity, size, state and (once loaded) headers.</summary>
    public sealed class SourceMessage
    {
        /// <summary>Creates a source message.</summary>
        public SourceMessage(string id, long size, SourceState state, DateTimeOffset? receivedDate, object handle)
        {
            Id = id;
            Size = size;
            State = state;
            ReceivedDate = receivedDate;
            Handle = handle;
        }

        /// <summary>The source's identity of the message (IMAP UID, file name).</summary>
        public string Id { get; }

        /// <summary>Size in bytes as the source reports it.</summary>
        public long Size { get; }

        /// <summary>How far handling got in earlier runs.</summary>
        public SourceState State { get; set; }

        /// <summary>How many earlier runs failed on it permanently (see <see cref="ProcessingOptions.MaxAttempts"/>).</summary>
        public int Attempts { get; set; }

        /// <summary>When the source received it (IMAP INTERNALDATE, file time).</summary>
        public DateTimeOffset? ReceivedDate { get; }

        /// <summary>The top-level headers, once loaded; null when they could not be parsed.</summary>
        public HeaderList Headers { get; set; }

        /// <summary>Where the message went when it was acknowledged; null while it waits.</summary>
        public string AcknowledgedTo { get; set; }

        /// <summary>Keywords set on the message at the source when it is acknowledged (an excluded auto-reply's class); null for none.</summary>
        public IReadOnlyList<string> Labels { get; set; }

        /// <summary>
        /// True when the source found the message no longer there (another host or a person moved it away): it is
        /// neither acknowledged nor rejected by this run.
        /// </summary>
        public bool Gone { get; set; }

        /// <summary>Why the headers could not be parsed, if they could not.</summary>
        public string HeaderError { get; set; }

        /// <summary>The adapter's own handle (UID, path).</summary>
        public object Handle { get; set; }
    }

    /// <summary>
    /// Where replies arrive. One instance serves one run; the run's workers call it concurrently, never two of them
    /// with the same message.
    /// </summary>
    public interface IReplySource : IDisposable
    {
        /// <summary>Names the source in messages (no password).</summary>
        string Description { get; }

        /// <summary>Connects or opens the source and creates the folders it moves messages to.</summary>
        Task OpenAsync(CancellationToken cancellationToken);

        /// <summary>Lists the waiting messages with identity, size and state, oldest first; headers are not loaded yet.</summary>
        Task<IReadOnlyList<SourceMessage>> ListAsync(CancellationToken cancellationToken);

        /// <summary>
        /// Loads the top-level headers of a batch of messages (one round trip where the source allows); a message that is
        /// no longer there is marked <see cref="SourceMessage.Gone"/> instead.
        /// </summary>
        Task LoadHeadersAsync(IReadOnlyList<SourceMessage> batch, CancellationToken cancellationToken);

        /// <summary>Opens the whole message as it was received; the caller disposes the stream.</summary>
        Task<Stream> OpenMessageAsync(SourceMessage message, CancellationToken cancellationToken);

        /// <summary>
        /// Opens at least the first <paramref name="length"/> bytes of the message, for a look at its first parts;
        /// a source where the whole message costs no more returns all of it. A seekable stream; the caller disposes it.
        /// </summary>
        Task<Stream> OpenMessageStartAsync(SourceMessage message, int length, CancellationToken cancellationToken);

        /// <summary>
        /// Records how far handling got for several messages, in one command where the source allows; adds
        /// <paramref name="state"/> to the <see cref="SourceMessage.State"/> of each message it was recorded for.
        /// </summary>
        Task SetStateAsync(IReadOnlyList<SourceMessage> messages, SourceState state, CancellationToken cancellationToken);

        /// <summary>Counts one more permanently failed attempt at the source (<see cref="SourceMessage.Attempts"/> + 1).</summary>
        Task RecordAttemptAsync(SourceMessage message, CancellationToken cancellationToken);

        /// <summary>
        /// Acknowledges messages: moves them out of the waiting set, in one command where the source allows, and sets
        /// <see cref="SourceMessage.AcknowledgedTo"/> of each message moved; a message that was no longer there is not
        /// acknowledged but marked <see cref="SourceMessage.Gone"/>.
        /// </summary>
        /// <param name="messages">The messages.</param>
        /// <param name="destination">Where they go.</param>
        /// <param name="reason">Why, for Rejected and DeadLetter (kept beside each message where the source allows); else null.</param>
        /// <param name="cancellationToken">Cancels the move.</param>
        Task MoveAsync(IReadOnlyList<SourceMessage> messages, SourceDestination destination, string reason, CancellationToken cancellationToken);
    }

    /// <summary>
    /// A source that sends the bodies of several messages in one command: a batch to store then costs one round trip
    /// instead of one per message.
    /// </summary>
    public interface IBatchFetchSource
    {
        /// <summary>
        /// Opens the whole messages as they were received, in one command where the source allows: one seekable stream per
        /// message, in the order given, or null for a message the source did not send (gone meanwhile, or sent empty); such a
        /// message is left to <see cref="IReplySource.OpenMessageAsync"/>, which tells a gone message from a failure. The
        /// caller disposes the streams.
        /// </summary>
        Task<IReadOnlyList<Stream>> OpenMessagesAsync(IReadOnlyList<SourceMessage> messages, CancellationToken cancellationToken);
    }

    /// <summary>
    /// A source that sets messages aside (the <see cref="SourceDestination.DeadLetter"/> place) and can say how many wait
    /// there, so each run can remind the administrator of them.
    /// </summary>
    public interface ISetAsideSource
    {
        /// <summary>Names the place messages are set aside in (a folder or directory).</summary>
        string SetAsidePlace { get; }

        /// <summary>How many messages wait in <see cref="SetAsidePlace"/> (0 when it does not exist).</summary>
        Task<int> CountSetAsideAsync(CancellationToken cancellationToken);
    }

    /// <summary>One message to store, with its keywords and internal date.</summary>
    public sealed class AppendItem
    {
        /// <summary>Creates an item.</summary>
        public AppendItem(MimeMessage message, IReadOnlyCollection<string> keywords, DateTimeOffset? internalDate)
        {
            Message = message;
            Keywords = keywords;
            InternalDate = internalDate;
        }

        /// <summary>The message, written as loaded (original bytes).</summary>
        public MimeMessage Message { get; }

        /// <summary>IMAP keywords of the stored copy.</summary>
        public IReadOnlyCollection<string> Keywords { get; }

        /// <summary>INTERNALDATE of the stored copy; null for the server's time.</summary>
        public DateTimeOffset? InternalDate { get; }
    }

    /// <summary>The one shared IMAP folder staff read. The run's workers call it concurrently.</summary>
    public interface IReplyStore : IDisposable
    {
        /// <summary>Names the folder in messages.</summary>
        string Description { get; }

        /// <summary>Largest message the server takes (APPENDLIMIT), if it announced one.</summary>
        long? ServerAppendLimit { get; }

        /// <summary>Connects and checks the folder.</summary>
        Task OpenAsync(CancellationToken cancellationToken);

        /// <summary>
        /// Finds the copy an interrupted run stored (used only when recovering). With <paramref name="content"/>, a candidate
        /// counts only when its bytes are the same as the content's (line ends and NULs normalized), so another message with
        /// the same Message-ID is never taken for this one; without a Message-ID the candidates are the messages of the same size.
        /// Without <paramref name="content"/> (notices, whose Message-ID is unique by construction) the Message-ID decides.
        /// </summary>
        Task<uint?> FindAsync(string messageId, MimeMessage content, CancellationToken cancellationToken);

        /// <summary>
        /// Stores messages in one server transaction where the server allows (MULTIAPPEND): all or none are stored.
        /// Returns the new UIDs in order, each null when the server does not tell it.
        /// </summary>
        Task<IReadOnlyList<uint?>> AppendAsync(IReadOnlyList<AppendItem> items, CancellationToken cancellationToken);

        /// <summary>
        /// Removes the copy <paramref name="uid"/> this run stored when the folder holds an earlier copy of the same content (a
        /// lower UID, recognised as <see cref="FindAsync"/> recognises a copy) and returns that copy's UID; returns null, removing
        /// nothing, when there is none. The earliest of a set of twins is never removed, so one copy always stays. For the one way
        /// a reply gets stored twice: a host stalled mid-APPEND past its lease finishes that APPEND after the host that took over
        /// stored the same reply.
        /// </summary>
        Task<uint?> RemoveIfStoredEarlierAsync(uint uid, string messageId, MimeMessage content, CancellationToken cancellationToken);
    }

    /// <summary>A reply folder written under a lease (several hosts share the source): it can say whether this host still holds it.</summary>
    public interface ILeasedReplyStore : IReplyStore
    {
        /// <summary>
        /// Returns when this host still holds the lease: then no other host can have taken over while the APPEND before this
        /// call was in flight, nor stored the same replies.
        /// </summary>
        /// <exception cref="ReplyAdminException"><see cref="ErrorIds.LeaseLost"/> (scope Run): another host may hold it now.</exception>
        Task ConfirmLeaseAsync(CancellationToken cancellationToken);
    }

    /// <summary>Sends forwards through the SMTP relay. The run's workers call it concurrently.</summary>
    public interface IReplyForwarder : IDisposable
    {
        /// <summary>Re-sends <paramref name="message"/> unchanged but for Resent-* and loop-guard headers to <paramref name="recipients"/>
        /// (and, where the relay signs, its ARC set and DKIM signature).</summary>
        /// <param name="message">The message to forward.</param>
        /// <param name="recipients">The forward addresses.</param>
        /// <param name="cancellationToken">Cancels the forward.</param>
        /// <param name="authenticationResults">Our verification of the original as method results (<c>dkim=pass header.d=example.com;
        /// dmarc=pass header.from=example.com</c>, see SenderVerification.ToMethodResults), or a whole Authentication-Results value;
        /// sealed into ARC-Authentication-Results under the relay's authserv-id; null seals <c>authserv-id; none</c>.</param>
        Task ForwardAsync(MimeMessage message, IReadOnlyList<string> recipients, CancellationToken cancellationToken, string authenticationResults = null);
    }

    /// <summary>
    /// How the engine reports while it runs. The PowerShell layer implements it (verbose, warning, progress);
    /// the engine itself has no PowerShell types. The run's workers call it concurrently.
    /// </summary>
    public interface IProcessingObserver
    {
        /// <summary>True when verbose output is shown, so the engine builds its texts only then.</summary>
        bool VerboseEnabled { get; }

        /// <summary>A step worth telling in verbose output.</summary>
        void Verbose(string message);

        /// <summary>Something the administrator should look at.</summary>
        void Warning(string message);

        /// <summary>Progress over the run.</summary>
        void Progress(int done, int total, string current);

        /// <summary>The result of one message, as soon as it is known.</summary>
        void Result(ProcessingResult result);
    }

    /// <summary>
    /// The reply folder as the source's session reaches it (in the source's own account, or shared with it by the reply
    /// account): a reply stored unchanged is copied on the server (IMAP UID COPY) instead of fetched and appended, so its
    /// bytes never cross the client.
    /// </summary>
    public interface IServerSideCopy
    {
        /// <summary>
        /// Copies the messages into the reply folder in one command and gives copy <c>i</c> exactly the keywords
        /// <paramref name="keywords"/>[i] and no flags (staff see it unread, without the source's state keywords).
        /// Returns the copies' UIDs in order, null for a message the server did not copy because it is no longer there;
        /// returns null as a whole when the server cannot say which UIDs the copies got (no UIDPLUS): then nothing was
        /// copied and the caller appends.
        /// </summary>
        Task<IReadOnlyList<uint?>> CopyAsync(IReadOnlyList<SourceMessage> messages, IReadOnlyList<IReadOnlyCollection<string>> keywords, CancellationToken cancellationToken);
    }
}
