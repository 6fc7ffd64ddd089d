using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using MailKit;
using MailKit.Net.Imap;

namespace ReplyAdmin.Engine.Imap
{
    /// <summary>
    /// One IMAP connection of a run, reconnected when the server dropped it. MailKit clients are not
    /// thread-safe: one session serves one caller at a time. Folder objects belong to a connection, so they
    /// are looked up again after a reconnect.
    /// </summary>
    internal sealed class ImapSession : IDisposable
    {
        private readonly ImapEndpoint _endpoint;
        private readonly NetworkCredential _credential;
        private readonly Dictionary<string, IMailFolder> _folders = new Dictionary<string, IMailFolder>(StringComparer.Ordinal);
        private ImapClient _client;

        public ImapSession(ImapEndpoint endpoint, NetworkCredential credential)
        {
            _endpoint = endpoint;
            _credential = credential;
        }

        public ImapEndpoint Endpoint => _endpoint;

        /// <summary>The connected client; reconnects (once) if the connection was lost.</summary>
        public async Task<ImapClient> ClientAsync(CancellationToken cancellationToken)
        {
            if (_client != null && _client.IsConnected && _client.IsAuthenticated)
                return _client;
            _client?.Dispose();
            _client = null;
            _folders.Clear();
            _client = await ImapConnector.ConnectAsync(_endpoint, _credential, cancellationToken).ConfigureAwait(false);
            return _client;
        }

        /// <summary>The folder, opened with at least <paramref name="access"/>.</summary>
        public async Task<IMailFolder> OpenAsync(string path, FolderAccess access, CancellationToken cancellationToken, bool create = false, bool serverPath = false)
        {
            var client = await ClientAsync(cancellationToken).ConfigureAwait(false);
            var folder = await FolderAsync(client, path, create, serverPath, cancellationToken).ConfigureAwait(false);
            if (access != FolderAccess.None && (!folder.IsOpen || folder.Access < access))
                await Run(() => folder.OpenAsync(access, cancellationToken), $"open folder '{path}'", path).ConfigureAwait(false);
            return folder;
        }

        // serverPath: the path is the server's own name of the folder (another namespace, e.g. a folder another user shares),
        // not a configured '/' path of the personal namespace.
        private async Task<IMailFolder> FolderAsync(ImapClient client, string path, bool create, bool serverPath, CancellationToken cancellationToken)
        {
            var key = serverPath ? "\u0001" + path : path;
            if (_folders.TryGetValue(key, out var known))
                return known;
            IMailFolder folder;
            try
            {
                folder = await client.GetFolderAsync(serverPath ? path : ToServerPath(client, path), cancellationToken).ConfigureAwait(false);
            }
            catch (FolderNotFoundException) when (create)
            {
                folder = await CreateAsync(client, path, cancellationToken).ConfigureAwait(false);
            }
            catch (FolderNotFoundException e)
            {
                throw new ImapConnectionException(ImapConnectionStep.Folder, ErrorIds.ImapFolderNotFound, ReplyAdminErrorKind.ObjectNotFound,
                    $"The folder '{path}' does not exist on {_endpoint.Host}:{_endpoint.Port} for '{_endpoint.UserName}'.", path,
                    "Create the folder (in a mail client or with the server's tools), or correct -Folder.", e);
            }
            _folders[key] = folder;
            return folder;
        }

        // Configured paths use '/' between levels; the server may use another separator.
        private static string ToServerPath(ImapClient client, string path)
        {
            var separator = client.PersonalNamespaces.Count > 0 ? client.PersonalNamespaces[0].DirectorySeparator : '/';
            var prefix = client.PersonalNamespaces.Count > 0 ? client.PersonalNamespaces[0].Path : string.Empty;
            var serverPath = path.Replace('/', separator);
            return string.Equals(path, "INBOX", StringComparison.OrdinalIgnoreCase) || string.IsNullOrEmpty(prefix) || serverPath.StartsWith(prefix, StringComparison.Ordinal)
                ? serverPath : prefix + serverPath;
        }

        private async Task<IMailFolder> CreateAsync(ImapClient client, string path, CancellationToken cancellationToken)
        {
            var parent = client.GetFolder(client.PersonalNamespaces[0]);
            IMailFolder folder = null;
            foreach (var level in path.Split('/'))
            {
                try
                {
                    folder = await parent.GetSubfolderAsync(level, cancellationToken).ConfigureAwait(false);
                }
                catch (FolderNotFoundException)
                {
                    // Null when the LIST after the CREATE no longer finds it (removed at once by someone else): then look it up.
                    folder = await Run(() => parent.CreateAsync(level, true, cancellationToken), $"create folder '{path}'", path).ConfigureAwait(false)
                        ?? await Run(() => parent.GetSubfolderAsync(level, cancellationToken), $"create folder '{path}'", path).ConfigureAwait(false);
                }
                parent = folder;
            }
            return folder;
        }

        /// <summary>Runs one IMAP command, turning MailKit's failures into engine errors that name the action.</summary>
        public async Task<T> Run<T>(Func<Task<T>> command, string action, object target)
        {
            try
            {
                return await command().ConfigureAwait(false);
            }
            catch (FolderNotFoundException e)
            {
                throw FolderGone(e.FolderName, action, e);
            }
            catch (MessageNotFoundException e)
            {
                // "The IMAP server did not return the requested stream": the message was expunged meanwhile.
                throw Processing.GoneMessages.Error(target?.ToString(), action, e);
            }
            catch (ImapCommandException e) when (e.ResponseText != null && (e.ResponseText.IndexOf("doesn't exist", StringComparison.OrdinalIgnoreCase) >= 0
                || e.ResponseText.IndexOf("does not exist", StringComparison.OrdinalIgnoreCase) >= 0 || e.ResponseText.IndexOf("NONEXISTENT", StringComparison.Ordinal) >= 0))
            {
                throw FolderGone(null, $"{action}: {e.ResponseText}", e);
            }
            catch (ImapCommandException e)
            {
                var kind = e.ResponseText != null && (e.ResponseText.IndexOf("quota", StringComparison.OrdinalIgnoreCase) >= 0 || e.ResponseText.IndexOf("too big", StringComparison.OrdinalIgnoreCase) >= 0)
                    ? ReplyAdminErrorKind.LimitsExceeded : ReplyAdminErrorKind.WriteError;
                throw new ReplyAdminException(ErrorIds.ImapCommandFailed, kind,
                    $"The IMAP server {_endpoint.Host} refused to {action}: {e.ResponseText}", target,
                    kind == ReplyAdminErrorKind.LimitsExceeded ? "Free space in the mailbox or raise its quota; the message stays at the source." : "See the server's log; the message stays at the source.", e,
                    transient: kind == ReplyAdminErrorKind.LimitsExceeded); // a refused command is refused again; a full quota frees up
            }
            catch (Exception e) when (e is ImapProtocolException || e is IOException || e is ServiceNotConnectedException || e is TimeoutException)
            {
                _client?.Dispose();
                _client = null;
                _folders.Clear();
                throw new ReplyAdminException(ErrorIds.ImapConnectionLost, ReplyAdminErrorKind.ConnectionError,
                    $"The connection to {_endpoint.Host}:{_endpoint.Port} was lost while trying to {action}: {e.Message}", target,
                    "The next step reconnects; the message stays at the source and the next run retries it.", e);
            }
        }

        // A folder deleted while the run works: every later message would fail the same way, so the run ends here
        // (an ImapConnectionException is terminating) and the messages stay at the source for a run after it is back.
        private ImapConnectionException FolderGone(string folder, string action, Exception e)
        {
            _folders.Clear();
            return new ImapConnectionException(ImapConnectionStep.Folder, ErrorIds.ImapFolderNotFound, ReplyAdminErrorKind.ObjectNotFound,
                $"The folder{(folder != null ? $" '{folder}'" : "")} no longer exists on {_endpoint.Host}:{_endpoint.Port} for '{_endpoint.UserName}' (while trying to {action}).", folder,
                "Create the folder again (or correct the configuration); the messages stay at the source and the next run handles them.", e);
        }

        public Task Run(Func<Task> command, string action, object target) =>
            Run(async () => { await command().ConfigureAwait(false); return true; }, action, target);

        public void Dispose()
        {
            if (_client == null) return;
            try
            {
                if (_client.IsConnected) _client.Disconnect(true);
            }
            catch (Exception e) when (e is IOException || e is ImapProtocolException || e is ImapCommandException || e is OperationCanceledException)
            {
                // The server went away first: nothing left to close.
            }
            _client.Dispose();
        }
    }
}
