})(window);
