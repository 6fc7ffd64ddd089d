using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Processing;
using ReplyAdmin.Engine.Sources;

namespace ReplyAdmin.Engine.Files
{
    /// <summary>
    /// Replies as files in a directory the MTA delivers to. A message being handled lives in the in-flight directory, its
    /// state in its name (<c>name;ra=CS</c>), so a run after a crash knows how far the last one got. Handled files move to
    /// the processed, rejected or archive directory; a rejected file gets a <c>.reason.txt</c> beside it. The kinds differ
    /// only in which files wait (<see cref="WaitingFiles"/>).
    /// </summary>
    public abstract class FileSystemReplySource : IReplySource, ISetAsideSource
    {
        private const string StateMarker = ";ra=";
        private readonly string _inFlight;
        private readonly string _processed;
        private readonly string _rejected;
        private readonly string _archive;
        private readonly string _deadLetter;
        private readonly string _quarantine;
        private readonly bool _readOnly;

        /// <summary>Creates the source.</summary>
        /// <param name="settings">The directory and where handled files go.</param>
        /// <param name="readOnly">Look only (-WhatIf): no directory is created.</param>
        protected FileSystemReplySource(InboundSourceSettings settings, bool readOnly)
        {
            Root = Path.GetFullPath(settings.Path);
            Kind = settings.Kind;
            _readOnly = readOnly;
            _inFlight = Path.Combine(Root, "ReplyAdmin", "InFlight");
            _processed = Resolve(settings.ProcessedFolder);
            _rejected = Resolve(settings.RejectedFolder);
            _archive = settings.ArchiveFolder != null ? Resolve(settings.ArchiveFolder) : _processed;
            _deadLetter = Path.Combine(Path.GetDirectoryName(_rejected) ?? Root, "DeadLetter"); // beside Rejected
            _quarantine = Path.Combine(Path.GetDirectoryName(_rejected) ?? Root, "Quarantine");
        }

        /// <summary>The directory the MTA delivers to.</summary>
        protected string Root { get; }

        private SourceKind Kind { get; }

        /// <summary>The files waiting to be handled, in any order.</summary>
        protected internal abstract IEnumerable<string> WaitingFiles();

        /// <inheritdoc />
        public string Description => $"{Kind} {Root}";

        private string Resolve(string folder) => Path.GetFullPath(Path.IsPathRooted(folder) ? folder : Path.Combine(Root, folder));

        /// <inheritdoc />
        public Task OpenAsync(CancellationToken cancellationToken)
        {
            if (!Directory.Exists(Root))
                throw new ReplyAdminException(ErrorIds.SourceNotFound, ReplyAdminErrorKind.ObjectNotFound, $"The source directory '{Root}' does not exist.", Root,
                    "Create it, or correct the path with Set-ReplySource -Path.", scope: FailureScope.Run);
            if (_readOnly) return Task.CompletedTask;
            try
            {
                foreach (var directory in new[] { _inFlight, _processed, _rejected, _archive })
                    Directory.CreateDirectory(directory);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ReplyAdminException(ErrorIds.SourceNotWritable, ReplyAdminErrorKind.WriteError,
                    $"The directories for handled messages under '{Root}' cannot be created: {e.Message}", Root,
                    "Give the account running ReplyAdmin write access to the source directory.", e, FailureScope.Run);
            }
            return Task.CompletedTask;
        }

        /// <inheritdoc />
        public Task<IReadOnlyList<SourceMessage>> ListAsync(CancellationToken cancellationToken)
        {
            var messages = new List<SourceMessage>();
            // Interrupted messages first: they are the oldest.
            foreach (var file in Directory.Exists(_inFlight) ? Directory.GetFiles(_inFlight) : new string[0])
            {
                var name = Path.GetFileName(file);
                var marker = name.LastIndexOf(StateMarker, StringComparison.Ordinal);
                var state = SourceState.Claimed;
                var attempts = 0;
                if (marker >= 0)
                {
                    var letters = name.Substring(marker + StateMarker.Length);
                    if (letters.IndexOf('S') >= 0) state |= SourceState.Stored;
                    if (letters.IndexOf('F') >= 0) state |= SourceState.Forwarded;
                    int.TryParse(new string(letters.Where(char.IsDigit).ToArray()), out attempts);
                    name = name.Substring(0, marker);
                }
                var described = MessageFile.Describe(file, name, state);
                described.Attempts = attempts;
                messages.Add(described);
            }
            foreach (var file in WaitingFiles().Select(f => new FileInfo(f)).OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal))
                messages.Add(MessageFile.Describe(file.FullName, file.Name, SourceState.None));
            return Task.FromResult<IReadOnlyList<SourceMessage>>(messages);
        }

        /// <summary>The files of a directory, none when it does not exist.</summary>
        protected static IEnumerable<string> FilesIn(string directory, string pattern = "*") =>
            Directory.Exists(directory) ? Directory.GetFiles(directory, pattern) : new string[0];

        /// <inheritdoc />
        public Task LoadHeadersAsync(IReadOnlyList<SourceMessage> batch, CancellationToken cancellationToken) => MessageFile.LoadHeadersAsync(batch);

        /// <inheritdoc />
        public Task<Stream> OpenMessageAsync(SourceMessage message, CancellationToken cancellationToken) => MessageFile.OpenAsync(message);

        /// <inheritdoc />
        public Task<Stream> OpenMessageStartAsync(SourceMessage message, int length, CancellationToken cancellationToken) => MessageFile.OpenAsync(message);

        /// <inheritdoc />
        public Task SetStateAsync(IReadOnlyList<SourceMessage> messages, SourceState state, CancellationToken cancellationToken)
        {
            foreach (var message in messages)
            {
                RenameInFlight(message, message.State | state, message.Attempts);
                message.State |= state;
            }
            return Task.CompletedTask;
        }

        /// <inheritdoc />
        public string SetAsidePlace => _deadLetter;

        /// <inheritdoc />
        public Task<int> CountSetAsideAsync(CancellationToken cancellationToken) =>
            Task.FromResult(FilesIn(_deadLetter).Count(f => !f.EndsWith(".reason.txt", StringComparison.Ordinal)));

        /// <inheritdoc />
        public Task RecordAttemptAsync(SourceMessage message, CancellationToken cancellationToken)
        {
            RenameInFlight(message, message.State | SourceState.Claimed, message.Attempts + 1);
            message.Attempts++;
            return Task.CompletedTask;
        }

        // In-flight name: <name>;ra=<S if stored><F if forwarded><failed attempts, if any>, e.g. "reply.eml;ra=S2".
        private void RenameInFlight(SourceMessage message, SourceState all, int attempts)
        {
            var letters = ((all & SourceState.Stored) != 0 ? "S" : "") + ((all & SourceState.Forwarded) != 0 ? "F" : "") + (attempts > 0 ? attempts.ToString(System.Globalization.CultureInfo.InvariantCulture) : "");
            var target = Path.Combine(_inFlight, message.Id + (letters.Length > 0 ? StateMarker + letters : ""));
            if (string.Equals(target, (string)message.Handle, StringComparison.Ordinal)) return;
            // A rename is atomic: the file is in exactly one place, with exactly one state, whenever the process dies.
            Move((string)message.Handle, target);
            message.Handle = target;
        }

        /// <inheritdoc />
        // Each file moves on its own: when one fails, those before it are acknowledged (AcknowledgedTo set) and the rest wait.
        public Task MoveAsync(IReadOnlyList<SourceMessage> messages, SourceDestination destination, string reason, CancellationToken cancellationToken)
        {
            foreach (var message in messages)
            {
                var directory = destination == SourceDestination.Rejected ? _rejected : destination == SourceDestination.Archive ? _archive
                    : destination == SourceDestination.DeadLetter ? _deadLetter : destination == SourceDestination.Quarantine ? _quarantine : _processed;
                var target = Path.Combine(directory, message.Id);
                if (File.Exists(target))
                    target = Path.Combine(directory, $"{message.Id}.{DateTime.UtcNow:yyyyMMddHHmmssfff}");
                if (destination == SourceDestination.DeadLetter || destination == SourceDestination.Quarantine)
                    Directory.CreateDirectory(directory);
                if (reason != null && destination != SourceDestination.Processed && destination != SourceDestination.Archive)
                    File.WriteAllText(target + ".reason.txt", reason + Environment.NewLine);
                Move((string)message.Handle, target);
                message.Handle = target;
                message.AcknowledgedTo = target;
            }
            return Task.CompletedTask;
        }

        private static void Move(string from, string to)
        {
            try
            {
                File.Move(from, to);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ReplyAdminException(ErrorIds.SourceMoveFailed, ReplyAdminErrorKind.WriteError, $"'{from}' could not be moved to '{to}': {e.Message}", from,
                    "Check the permissions of the source directory; the message stays where it is.", e);
            }
        }

        /// <inheritdoc />
        public void Dispose()
        {
        }
    }

    /// <summary>
    /// What the file-based kinds share: their settings, naming, waiting (woken by the file system, and looking every few
    /// seconds where it cannot tell) and testing.
    /// </summary>
    internal abstract class FileSystemSourceProvider : ISourceProvider
    {
        private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);

        // After a file appears, wait until the directory has been quiet this long: a writer that creates a .eml file and
        // then fills it (a directory source has no Maildir tmp/ step) gets to finish first.
        private static readonly TimeSpan QuietPeriod = TimeSpan.FromMilliseconds(250);

        public abstract SourceKind Kind { get; }

        public abstract IReplySource Create(InboundSourceSettings settings, SourceContext context);

        public void Validate(InboundSourceSettings settings)
        {
            if (string.IsNullOrWhiteSpace(settings.Path) || settings.Path.Any(char.IsControl))
                throw new ConfigurationException(ErrorIds.SourcePathInvalid, "source.path",
                    $"a {settings.Kind} source needs a path without control characters.", settings.Path,
                    "Give the directory the MTA delivers to with -Path.");
        }

        public string Describe(InboundSourceSettings settings) => $"{settings.Kind} {Path.GetFullPath(settings.Path)}";

        public async Task<bool> WaitForArrivalAsync(InboundSourceSettings settings, SourceContext context, TimeSpan maxWait, CancellationToken cancellationToken)
        {
            var deadline = DateTime.UtcNow + maxWait;
            using (var changed = new SemaphoreSlim(0))
            using (var source = (FileSystemReplySource)Create(settings, new SourceContext { ReadOnly = true }))
            using (Watch(Path.GetFullPath(settings.Path), () => changed.Release()))
            {
                while (true)
                {
                    if (source.WaitingFiles().Any()) return true;
                    var left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero) return false;
                    if (!await changed.WaitAsync(left < PollInterval ? left : PollInterval, cancellationToken).ConfigureAwait(false))
                        continue;
                    // Something changed: let the directory go quiet (bounded by the deadline), then look.
                    do
                    {
                        while (changed.Wait(0)) { }
                        left = deadline - DateTime.UtcNow;
                    } while (left > TimeSpan.Zero && await changed.WaitAsync(left < QuietPeriod ? left : QuietPeriod, cancellationToken).ConfigureAwait(false));
                }
            }
        }

        // A watcher that calls back when a file appears or is renamed under the source; null where the file system cannot
        // tell (a missing directory, no inotify watches left, some network shares): the poll then finds the files.
        private static FileSystemWatcher Watch(string path, Action changed)
        {
            FileSystemWatcher watcher = null;
            try
            {
                watcher = new FileSystemWatcher(path) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName };
                watcher.Created += (sender, e) => changed();
                watcher.Renamed += (sender, e) => changed();
                watcher.EnableRaisingEvents = true;
                return watcher;
            }
            catch (Exception e) when (e is IOException || e is ArgumentException || e is UnauthorizedAccessException || e is PlatformNotSupportedException)
            {
                watcher?.Dispose();
                return null;
            }
        }

        public Task<SourceTestReport> TestAsync(InboundSourceSettings settings, SourceContext context, CancellationToken cancellationToken)
        {
            var report = new SourceTestReport { Kind = Kind, Source = Describe(settings) };
            using (var source = (FileSystemReplySource)Create(settings, context))
            {
                try
                {
                    source.OpenAsync(cancellationToken).GetAwaiter().GetResult(); // creates the directories for handled messages: proves write access
                    report.WaitingMessages = source.WaitingFiles().Count();
                }
                catch (ReplyAdminException e)
                {
                    report.Error = e;
                }
            }
            return Task.FromResult(report);
        }
    }
}
