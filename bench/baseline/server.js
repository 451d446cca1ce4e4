/*
 * The seed's server.js (the "Sockets" lesson) as it is, but for what the benchmark needs: the
 * port comes from PORT (default 3000, as in the seed), it listens on loopback only, and chat.html
 * is the end-to-end tests' copy of the seed's page. Its console.log calls stay: they are part of
 * what the original costs.
 */

/* Librerías necesarias para crear la aplicación */
var path = require('path');
var app  = require('express')();
var http = require('http').Server(app);
var io   = require('socket.io')(http);

var port = Number(process.env.PORT || 3000);

/*
*  Configuramos nuestra ruta (index) principal con
*  express para mostrar el chat
*/
app.get('/', function(req, res) {
    res.sendFile(path.join(__dirname, '../../end2end/fixtures/chat.html'));
});

/*
*  Configuramos Socket.IO para estar a la escucha de
*  nuevas conexiones.
*/
io.on('connection', function(socket) {

    console.log('New user connected');

    socket.on('nuevo mensaje', function(msj) {
        io.emit('nuevo mensaje', msj);
        console.log(msj);
    });

    socket.on('disconnect', function() {
        console.log('Usuario desconectado');
    });

});

http.listen(port, '127.0.0.1', function() {
    console.log('listening on *:' + port);
});
