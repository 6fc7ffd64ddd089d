using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using ReplyAdmin.Engine.Configuration;
using ReplyAdmin.Engine.Processing;

namespace ReplyAdmin.Engine.Files
{
    /// <summary>
    /// Replies as files: a Maildir (new/ and cur/), a directory of .eml files, or files given one by one (piped in).
    /// A message being handled lives in the in-flight directory, its state in its name (<c>name;ra=CS</c>), so a
    /// run after a crash knows how far the last one got. Handled files move to the processed, rejected or archive
    /// directory; a rejected file gets a <c>.reason.txt</c> beside it.
    /// </summary>
    public sealed class FileReplySource : IReplySource
    {
        private const string StateMarker = ";ra=";
        private readonly SourceKind _kind;
        private readonly string _root;
        private readonly IReadOnlyList<string> _files;
        private readonly string _inFlight;
        private readonly string _processed;
        private readonly string _rejected;
        private readonly string _archive;
        private readonly string _deadLetter;

        /// <summary>A configured Maildir or directory source.</summary>
        public FileReplySource(InboundSourceSettings settings)
        {
            _kind = settings.Kind;
            _root = Path.GetFullPath(settings.Path);
            _inFlight = Path.Combine(_root, "ReplyAdmin", "InFlight");
            _processed = Resolve(settings.ProcessedFolder);
            _rejected = Resolve(settings.RejectedFolder);
            _archive = settings.ArchiveFolder != null ? Resolve(settings.ArchiveFolder) : _processed;
            _deadLetter = Path.Combine(Path.GetDirectoryName(_rejected) ?? _root, "DeadLetter"); // beside Rejected
        }

        /// <summary>
        /// Files given one by one (e.g. piped from Get-ChildItem). They are left where they are; with no state kept
        /// beside them, each is treated as possibly stored before, so the reply folder is searched for its Message-ID first.
        /// </summary>
        public FileReplySource(IEnumerable<string> files)
        {
            _kind = SourceKind.Directory;
            _files = files.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).ToList();
        }

        /// <inheritdoc />
        public string Description => _files != null ? $"{_files.Count} file(s) given" : $"{_kind} {_root}";

        private string Resolve(string folder) => Path.GetFullPath(Path.IsPathRooted(folder) ? folder : Path.Combine(_root, folder));

        /// <inheritdoc />
        public Task OpenAsync(CancellationToken cancellationToken)
        {
            if (_files != null) return Task.CompletedTask;
            if (!Directory.Exists(_root))
                throw new ReplyAdminException("SourceNotFound", ReplyAdminErrorKind.ObjectNotFound, $"The source directory '{_root}' does not exist.", _root,
                    "Create it, or correct the path with Set-ReplySource -Path.");
            try
            {
                foreach (var directory in new[] { _inFlight, _processed, _rejected, _archive })
                    Directory.CreateDirectory(directory);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ReplyAdminException("SourceNotWritable", ReplyAdminErrorKind.WriteError,
                    $"The directories for handled messages under '{_root}' cannot be created: {e.Message}", _root,
                    "Give the account running ReplyAdmin write access to the source directory.", e);
            }
            return Task.CompletedTask;
        }

        /// <inheritdoc />
        public Task<IReadOnlyList<SourceMessage>> ListAsync(CancellationToken cancellationToken)
        {
            var messages = new List<SourceMessage>();
            if (_files != null)
            {
                foreach (var file in _files)
                    messages.Add(Describe(file, Path.GetFileName(file), SourceState.Claimed));
                return Task.FromResult<IReadOnlyList<SourceMessage>>(messages);
            }
            // Interrupted messages first: they are the oldest.
            foreach (var file in Directory.GetFiles(_inFlight))
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
                var described = Describe(file, name, state);
                described.Attempts = attempts;
                messages.Add(described);
            }
            var waiting = _kind == SourceKind.Maildir
                ? Files(Path.Combine(_root, "new")).Concat(Files(Path.Combine(_root, "cur")))
                : Directory.GetFiles(_root, "*.eml");
            foreach (var file in waiting.Select(f => new FileInfo(f)).OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal))
                messages.Add(Describe(file.FullName, file.Name, SourceState.None));
            return Task.FromResult<IReadOnlyList<SourceMessage>>(messages);
        }

        private static IEnumerable<string> Files(string directory) => Directory.Exists(directory) ? Directory.GetFiles(directory) : new string[0];

        private static SourceMessage Describe(string path, string name, SourceState state)
        {
            var info = new FileInfo(path);
            return new SourceMessage(name, info.Exists ? info.Length : 0, state, info.Exists ? info.LastWriteTimeUtc : (DateTimeOffset?)null, path);
        }

        /// <inheritdoc />
        public Task LoadHeadersAsync(IReadOnlyList<SourceMessage> batch, CancellationToken cancellationToken)
        {
            foreach (var message in batch)
            {
                try
                {
                    // Tolerates what saved .eml files carry before the headers: an mbox "From " line, blank lines.
                    using (var stream = File.OpenRead((string)message.Handle))
                        message.Headers = Classification.MessageHeaderReader.ReadHeaders(stream);
                    if (message.Headers.Count == 0)
                    {
                        message.Headers = null;
                        message.HeaderError = "it has no header fields";
                    }
                }
                catch (Exception e) when (!(e is OperationCanceledException))
                {
                    // Whatever a file holds, it is this message's problem: it gets an outcome, the run goes on.
                    message.Headers = null;
                    message.HeaderError = e.Message;
                }
            }
            return Task.CompletedTask;
        }

        /// <inheritdoc />
        // A small file buffer: the body is copied in 64 KB blocks anyway, and a large buffer per message only adds garbage.
        public Task<Stream> OpenMessageAsync(SourceMessage message, CancellationToken cancellationToken) =>
            Task.FromResult<Stream>(new FileStream((string)message.Handle, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.SequentialScan));

        /// <inheritdoc />
        // A local file is read only as far as the caller reads: the whole file costs nothing more.
        public Task<Stream> OpenMessageStartAsync(SourceMessage message, int length, CancellationToken cancellationToken) => OpenMessageAsync(message, cancellationToken);

        /// <inheritdoc />
        public Task SetStateAsync(IReadOnlyList<SourceMessage> messages, SourceState state, CancellationToken cancellationToken)
        {
            foreach (var message in messages)
            {
                if (_files == null)
                    RenameInFlight(message, message.State | state, message.Attempts);
                message.State |= state;
            }
            return Task.CompletedTask;
        }

        /// <inheritdoc />
        public Task RecordAttemptAsync(SourceMessage message, CancellationToken cancellationToken)
        {
            if (_files != null) return Task.CompletedTask;
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
        public Task MoveAsync(IReadOnlyList<SourceMessage> messages, SourceDestination destination, string reason, CancellationToken cancellationToken)
        {
            foreach (var message in messages)
                Move(message, destination, reason);
            return Task.CompletedTask;
        }

        // Each file moves on its own: when one fails, those before it are acknowledged (AcknowledgedTo set) and the rest wait.
        private void Move(SourceMessage message, SourceDestination destination, string reason)
        {
            if (_files != null)
            {
                message.AcknowledgedTo = "left in place (given as a file)";
                return;
            }
            var directory = destination == SourceDestination.Rejected ? _rejected : destination == SourceDestination.Archive ? _archive
                : destination == SourceDestination.DeadLetter ? _deadLetter : _processed;
            var target = Path.Combine(directory, message.Id);
            if (File.Exists(target))
                target = Path.Combine(directory, $"{message.Id}.{DateTime.UtcNow:yyyyMMddHHmmssfff}");
            if (destination == SourceDestination.DeadLetter)
                Directory.CreateDirectory(directory);
            if (reason != null && (destination == SourceDestination.Rejected || destination == SourceDestination.DeadLetter))
                File.WriteAllText(target + ".reason.txt", reason + Environment.NewLine);
            Move((string)message.Handle, target);
            message.Handle = target;
            message.AcknowledgedTo = target;
        }

        private static void Move(string from, string to)
        {
            try
            {
                File.Move(from, to);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ReplyAdminException("SourceMoveFailed", ReplyAdminErrorKind.WriteError, $"'{from}' could not be moved to '{to}': {e.Message}", from,
                    "Check the permissions of the source directory; the message stays where it is.", e);
            }
        }

        /// <inheritdoc />
        public void Dispose()
        {
        }
    }
}
